using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CriOci.TestSupport;

/// <summary>
/// A real OCI distribution registry (Debian's docker-registry, distribution 2.8) on a free
/// loopback port, with filesystem storage in a temporary directory that is deleted on dispose.
/// Plain HTTP, no auth: clients must treat <see cref="Host"/> as insecure.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private const int StartAttempts = 3;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly string _workDirectory;
    private int _disposed;
    private HttpStatusCode _readyStatus = HttpStatusCode.OK;

    private RegistryServer(Process process, StreamWriter log, string workDirectory, int port, string logPath)
    {
        _process = process;
        _log = log;
        _workDirectory = workDirectory;
        Port = port;
        LogPath = logPath;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:PORT", the registry part of an image reference.</summary>
    public string Host => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"http://127.0.0.1:PORT/", for HttpClient.BaseAddress.</summary>
    public Uri BaseUri => new($"http://{Host}/");

    /// <summary>The registry's stdout and stderr (access log included); kept after dispose for diagnostics.</summary>
    public string LogPath { get; }

    /// <summary>The registry's blob and manifest storage.</summary>
    public string StorageDirectory => Path.Combine(_workDirectory, "storage");

    /// <summary>
    /// Starts a registry and waits until GET /v2/ answers 200.
    /// </summary>
    /// <param name="logDirectory">Where to write registry-PORT-*.log; defaults to test-logs/ in the test output folder.</param>
    public static Task<RegistryServer> StartAsync(string? logDirectory = null, CancellationToken cancellationToken = default) =>
        StartAsync(RegistryServerOptions.Anonymous, logDirectory, cancellationToken);

    /// <summary>
    /// Starts a registry with <paramref name="options"/> (htpasswd or token authentication) and
    /// waits until GET /v2/ answers (200, or 401 when authentication is on).
    /// </summary>
    public static async Task<RegistryServer> StartAsync(
        RegistryServerOptions options, string? logDirectory = null, CancellationToken cancellationToken = default)
    {
        var binary = TestDependencies.RequireDockerRegistry();
        logDirectory ??= Path.Combine(AppContext.BaseDirectory, "test-logs");
        Directory.CreateDirectory(logDirectory);
        DeleteOldLogs(logDirectory);

        // The free port is found by binding port 0 and releasing it, so another process may take it
        // before the registry binds; a failed start is retried on a new port.
        for (var attempt = 1; attempt < StartAttempts; attempt++)
        {
            try
            {
                return await StartOnceAsync(binary, logDirectory, options, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryStartException)
            {
                // Retry on another port; the log file of the failed attempt stays for diagnostics.
            }
        }

        return await StartOnceAsync(binary, logDirectory, options, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<RegistryServer> StartOnceAsync(
        string binary, string logDirectory, RegistryServerOptions options, CancellationToken cancellationToken)
    {
        var port = GetFreeLoopbackPort();
        var workDirectory = Directory.CreateTempSubdirectory("crioci-registry-").FullName;
        var storage = Path.Combine(workDirectory, "storage");
        Directory.CreateDirectory(storage);
        var configPath = Path.Combine(workDirectory, "config.yml");
        await File.WriteAllTextAsync(configPath, BuildConfig(port, storage, options), cancellationToken).ConfigureAwait(false);

        var logPath = Path.Combine(
            logDirectory,
            $"registry-{port.ToString(CultureInfo.InvariantCulture)}-{DateTime.UtcNow:yyyyMMddTHHmmssfff}.log");
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };

        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        startInfo.ArgumentList.Add("serve");
        startInfo.ArgumentList.Add(configPath);

        // distribution lets REGISTRY_* variables override any config field; a stray one on a
        // developer machine (REGISTRY_HTTP_ADDR, say) must not change the test registry.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLogLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLogLine(log, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new RegistryServer(process, log, workDirectory, port, logPath) { _readyStatus = options.RequiresAuthentication ? HttpStatusCode.Unauthorized : HttpStatusCode.OK };
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new RegistryStartException(
                    $"docker-registry exited with code {_process.ExitCode} before answering on {Host}. Log {LogPath}:{Environment.NewLine}{ReadLogTail()}");
            }

            try
            {
                using var response = await http.GetAsync("v2/", cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == _readyStatus)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The 2 s per-request timeout; retry until StartupTimeout.
            }

            if (stopwatch.Elapsed > StartupTimeout)
            {
                throw new RegistryStartException(
                    $"docker-registry did not answer GET /v2/ on {Host} within {StartupTimeout.TotalSeconds}s. Log {LogPath}:{Environment.NewLine}{ReadLogTail()}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string BuildConfig(int port, string storageDirectory, RegistryServerOptions options) =>
        $"""
        # Generated by CriOci.TestSupport.RegistryServer.
        version: 0.1
        log:
          level: info
          formatter: text
          accesslog:
            disabled: false
        storage:
          filesystem:
            rootdirectory: "{storageDirectory}"
          delete:
            enabled: true
          maintenance:
            uploadpurging:
              enabled: false
        http:
          addr: "127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"
          secret: "crioci-test-{Guid.NewGuid():N}"
          headers:
            X-Content-Type-Options: [nosniff]
        health:
          storagedriver:
            enabled: false
        {options.AuthConfigYaml()}
        """;

    /// <summary>Each start leaves a log; keep a few days of them so the folder does not grow forever.</summary>
    private static void DeleteOldLogs(string logDirectory)
    {
        var cutoff = DateTime.UtcNow - TimeSpan.FromDays(3);
        foreach (var log in Directory.EnumerateFiles(logDirectory, "registry-*.log"))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(log) < cutoff)
                {
                    File.Delete(log);
                }
            }
            catch (IOException)
            {
                // Another test process may be deleting the same file.
            }
        }
    }

    private static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void WriteLogLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives while the server is being disposed.
            }
        }
    }

    private string ReadLogTail()
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            return text.Length <= 4000 ? text : "..." + text[^4000..];
        }
        catch (IOException ex)
        {
            return $"(log unreadable: {ex.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Leave it; the directory delete below may then fail and is best effort.
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }

        try
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind must not fail the test run.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The registry process exited or did not answer GET /v2/ in time; the message holds its log tail.</summary>
public sealed class RegistryStartException(string message) : Exception(message);
