using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// Debian's prometheus (scripts/install-test-deps.sh) on a free loopback port with a temp TSDB,
/// scraping one target every second; queried through its HTTP API as an operator's dashboard would.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";

    private readonly Process process;
    private readonly string directory;
    private readonly HttpClient http;

    private PrometheusServer(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public string LogPath => Path.Combine(directory, "prometheus.log");

    public static async Task<PrometheusServer> StartAsync(string scrapeTarget)
    {
        if (!File.Exists(Executable))
        {
            throw new FileNotFoundException($"{Executable} is missing: run scripts/install-test-deps.sh", Executable);
        }
        var directory = Directory.CreateTempSubdirectory("crioci-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: crioci
                static_configs:
                  - targets: ["{scrapeTarget}"]
            """);
        var port = FreePort();
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        var server = new PrometheusServer(process, directory, port);
        var log = new StreamWriter(server.LogPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                if ((await server.http.GetAsync("/-/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus did not become ready:\n{await File.ReadAllTextAsync(server.LogPath)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>The instant value of a PromQL expression that yields one sample, or null while it yields none.</summary>
    public async Task<double?> QueryAsync(string promQl)
    {
        using var response = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promQl)}");
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls until <paramref name="promQl"/> has a value meeting <paramref name="expected"/> (scrapes are 1 s apart).</summary>
    public async Task<double> WaitForAsync(string promQl, Func<double, bool> expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promQl);
            if (last is { } value && expected(value))
            {
                return value;
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{promQl} = {last?.ToString() ?? "no sample"}; targets: {await http.GetStringAsync("/api/v1/targets")}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
