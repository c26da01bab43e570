using System.Diagnostics;
using CriOci.Cri.V1;
using CriOci.TestSupport;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// A real crioci daemon started from artifacts/bin on a temporary socket, root and state
/// directory. Its output is kept in a log file for diagnostics.
/// </summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;

    private DaemonProcess(Process process, string baseDirectory, string logPath)
    {
        _process = process;
        BaseDirectory = baseDirectory;
        LogPath = logPath;
        Client = new CriClient(SocketPath);
    }

    public string BaseDirectory { get; }
    public string SocketPath => Path.Combine(BaseDirectory, "crioci.sock");
    public string RootDirectory => Path.Combine(BaseDirectory, "root");
    public string StateDirectory => Path.Combine(BaseDirectory, "state");

    /// <summary>
    /// The daemon's CNI config directory: empty unless a test writes a network into it, so the
    /// tests use the built-in default bridge whatever the machine has in /etc/cni/net.d.
    /// </summary>
    public string CniConfigDirectory => Path.Combine(BaseDirectory, "cni", "net.d");
    public string LogPath { get; }
    public CriClient Client { get; }
    public int Pid => _process.Id;

    /// <param name="extraArgs">More daemon flags, after the fixture's own (a later flag wins).</param>
    public static async Task<DaemonProcess> StartAsync(string? baseDirectory = null, IReadOnlyList<string>? extraArgs = null)
    {
        baseDirectory ??= Path.Combine(Path.GetTempPath(), "crioci-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(baseDirectory);
        var logPath = Path.Combine(baseDirectory, "daemon.log");
        var process = Launch(baseDirectory, logPath, extraArgs);
        var daemon = new DaemonProcess(process, baseDirectory, logPath);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"crioci exited with {process.ExitCode} during start:\n{await File.ReadAllTextAsync(logPath)}");
            }
            if (File.Exists(daemon.SocketPath))
            {
                try
                {
                    await daemon.Client.Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    return daemon;
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"crioci did not answer on {daemon.SocketPath} within 30s:\n{await File.ReadAllTextAsync(logPath)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Starts the daemon binary with this fixture's directories and waits for it to exit (for start-up failure tests).</summary>
    public static Process Launch(string baseDirectory, string logPath, IReadOnlyList<string>? extraArgs = null)
    {
        Directory.CreateDirectory(Path.Combine(baseDirectory, "cni", "net.d"));
        var start = new ProcessStartInfo(RepositoryPaths.Daemon)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--socket", Path.Combine(baseDirectory, "crioci.sock"),
            "--root", Path.Combine(baseDirectory, "root"),
            "--state", Path.Combine(baseDirectory, "state"),
            "--cni-conf-dir", Path.Combine(baseDirectory, "cni", "net.d"),
            .. extraArgs ?? [],
        ];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("crioci did not start");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var logLock = new object();
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (logLock)
            {
                log.WriteLine(line);
            }
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// A test that failed half-way leaves pods behind: remove them through the daemon, so their
    /// containers, veths and IP allocations do not outlive the test on a shared machine.
    /// </summary>
    private async Task RemoveEveryPodAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        try
        {
            var pods = await Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            foreach (var pod in pods.Items)
            {
                await Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id }, deadline: DateTime.UtcNow.AddSeconds(30));
            }
        }
        catch (Grpc.Core.RpcException)
        {
            // The daemon is not answering; the caller's unmount clean-up is all that is left.
        }
    }

    /// <summary>SIGTERM, as systemd stops it for an upgrade; returns the exit code once it has exited.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await CommandRunner.RunAsync("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as the OOM killer or a node problem would.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await RemoveEveryPodAsync();
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
