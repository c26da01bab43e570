using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace CriOci.Streaming.Tests.Support;

/// <summary>
/// The streaming server as the daemon would host it: Kestrel on 127.0.0.1, the WebSockets
/// middleware and the streaming routes, with a <see cref="HostProcessRuntime"/> behind it.
/// Counts the requests in flight so tests can prove a session left nothing running.
/// </summary>
internal sealed class StreamingTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Counter _inFlight;

    private StreamingTestHost(WebApplication app, StreamingServer server, HostProcessRuntime runtime, ManualTimeProvider time, Counter inFlight)
    {
        _app = app;
        Server = server;
        Runtime = runtime;
        Time = time;
        _inFlight = inFlight;
    }

    public StreamingServer Server { get; }
    public HostProcessRuntime Runtime { get; }
    public ManualTimeProvider Time { get; }
    public Uri BaseUrl => Server.Options.BaseUrl;
    public int RequestsInFlight => _inFlight.Value;

    public static async Task<StreamingTestHost> StartAsync(Func<StreamingOptions, StreamingOptions>? configure = null)
    {
        // The URLs carry the port, so it is chosen before the server exists.
        var port = FreePort();
        var options = new StreamingOptions(new Uri($"http://127.0.0.1:{port}/")) { CloseGracePeriod = TimeSpan.FromSeconds(5) };
        options = configure?.Invoke(options) ?? options;
        var runtime = new HostProcessRuntime();
        var time = new ManualTimeProvider();
        var server = new StreamingServer(options, runtime, timeProvider: time);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var inFlight = new Counter();
        app.Use(async (context, next) =>
        {
            inFlight.Add(1);
            try
            {
                await next(context);
            }
            finally
            {
                inFlight.Add(-1);
            }
        });
        app.UseStreaming(server);
        await app.StartAsync();
        return new StreamingTestHost(app, server, runtime, time, inFlight);
    }

    /// <summary>Waits until every HTTP request, upgraded sessions included, has finished on the server.</summary>
    public async Task WaitForIdleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (RequestsInFlight > 0)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Counter
    {
        private int _value;
        public int Value => Volatile.Read(ref _value);
        public void Add(int delta) => Interlocked.Add(ref _value, delta);
    }
}

/// <summary>A clock the tests move by hand, so token expiry is tested without waiting.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
