using System.Diagnostics;
using CriOci.Play;

namespace CriOci.Bench.Cri;

/// <summary>
/// The published crioci daemon (artifacts/bin/crioci) on a temporary socket, root, state and
/// an empty CNI config directory, so pods get its built-in default bridge (10.87.0.0/16).
/// Metrics are off: the peers export none either.
/// </summary>
public sealed class CriociPeer : CriPeer
{
    private readonly DaemonProcess _daemon;
    private readonly string _directory;
    private readonly StreamWriter _log;

    private CriociPeer(DaemonProcess daemon, string directory, StreamWriter log)
        : base("CriOci", CriChannel.ForUnixSocket(Path.Combine(directory, "crioci.sock")))
    {
        _daemon = daemon;
        _directory = directory;
        _log = log;
    }

    /// <summary>The process serving the socket, which is not the one started when --daemon names a wrapper script.</summary>
    public override int DaemonPid => _daemon.Pid;

    public override string LogPath => Path.Combine(_directory, "daemon.log");

    private string StateDirectory => Path.Combine(_directory, "state");

    /// <summary>
    /// Monitors are `crioci-runtime monitor ... --root DIR` while they create the container and
    /// `crioci-monitor ... --state DIR/ID` once it exists, with DIR inside this daemon's state.
    /// </summary>
    public override IReadOnlyList<int> HelperPids() => ProcessTable.Find(argv =>
        argv.Count > 1
        && (Path.GetFileName(argv[0]) == "crioci-runtime" && argv[1] == "monitor" ? ProcessTable.FlagValue(argv, "--root")
            : Path.GetFileName(argv[0]) == "crioci-monitor" ? ProcessTable.FlagValue(argv, "--state") : null) is { } root
        && root.StartsWith(StateDirectory + "/", StringComparison.Ordinal));

    public static async Task<CriociPeer> StartAsync(string daemon, string work, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(work, "crioci");
        Directory.CreateDirectory(Path.Combine(directory, "cni"));
        var start = new ProcessStartInfo(daemon) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--socket", Path.Combine(directory, "crioci.sock"),
            "--root", Path.Combine(directory, "root"),
            "--state", Path.Combine(directory, "state"),
            "--cni-conf-dir", Path.Combine(directory, "cni"),
            "--metrics-address=",
            "--log-level", "warning",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{daemon} did not start");
        var log = new StreamWriter(Path.Combine(directory, "daemon.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemonProcess = new DaemonProcess(process, Path.Combine(directory, "crioci.sock"));
        var peer = new CriociPeer(daemonProcess, directory, log);
        await PeerReadiness.WaitAsync(peer, () => process.HasExited, cancellationToken);
        daemonProcess.FindListener();
        return peer;
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _daemon.KillAsync();
        _daemon.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
