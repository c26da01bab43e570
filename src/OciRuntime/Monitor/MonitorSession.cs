using System.Globalization;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// What crioci-monitor takes over from `crioci-runtime monitor` once the container exists: its
/// init (a child of this very process, which execs into crioci-monitor), the open descriptors
/// of the container's streams, the listening attach socket and the log, and the files to read
/// when the container exits. Passed on the command line; the descriptors are inherited.
/// </summary>
/// <param name="StateDirectory">The container's state directory (exit.json goes there).</param>
/// <param name="StderrFd">-1 with a terminal (everything arrives on <paramref name="StdoutFd"/>).</param>
/// <param name="InputFd">The write end of the container's stdin pipe or a descriptor of its pty master; -1 for neither.</param>
/// <param name="LogFd">The CRI log, open for appending; -1 for none.</param>
/// <param name="LogPath">Where <paramref name="LogFd"/> is reopened on SIGHUP.</param>
internal sealed record MonitorSession(
    string Id, string StateDirectory, int InitPid, int SyncFd,
    int StdoutFd, int StderrFd, int InputFd, bool Terminal, bool Stdin, bool StdinOnce,
    int AttachFd, int LogFd, string? LogPath, ContainerCgroupFiles Cgroup)
{
    public List<string> ToArguments()
    {
        var args = new List<string>
        {
            "--id", Id, "--state", StateDirectory, "--init-pid", Number(InitPid), "--sync-fd", Number(SyncFd),
            "--stdout", Number(StdoutFd), "--stderr", Number(StderrFd), "--input", Number(InputFd),
            "--attach", Number(AttachFd), "--log", Number(LogFd),
        };
        if (LogPath is not null)
        {
            args.AddRange(["--log-path", LogPath]);
        }
        if (Terminal)
        {
            args.Add("--terminal");
        }
        if (Stdin)
        {
            args.Add("--stdin");
        }
        if (StdinOnce)
        {
            args.Add("--stdin-once");
        }
        if (Cgroup.OomEvents is not null)
        {
            args.AddRange(["--oom-events", Cgroup.OomEvents]);
        }
        if (Cgroup.Procs is not null)
        {
            args.AddRange(["--kill-procs", Cgroup.Procs]);
        }
        return args;
    }

    /// <summary>Reads what <see cref="ToArguments"/> wrote; throws <see cref="ArgumentException"/> on anything else.</summary>
    public static MonitorSession Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        var switches = new HashSet<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--terminal" or "--stdin" or "--stdin-once":
                    switches.Add(args[i]);
                    break;
                case var name when name.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Count:
                    values[name] = args[++i];
                    break;
                default:
                    throw new ArgumentException($"unexpected argument {args[i]}");
            }
        }
        string Text(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"{name} is missing");
        int Fd(string name) => Text(name) is "-1" ? -1
            : ContainerCgroupFiles.ParseNumber(Text(name)) is { } number and <= int.MaxValue ? (int)number
            : throw new ArgumentException($"{name} {Text(name)} is not a number");
        return new MonitorSession(
            Text("--id"), Text("--state"), Fd("--init-pid"), Fd("--sync-fd"),
            Fd("--stdout"), Fd("--stderr"), Fd("--input"),
            switches.Contains("--terminal"), switches.Contains("--stdin"), switches.Contains("--stdin-once"),
            Fd("--attach"), Fd("--log"), values.GetValueOrDefault("--log-path"),
            new ContainerCgroupFiles(values.GetValueOrDefault("--oom-events"), values.GetValueOrDefault("--kill-procs")));
    }

    /// <summary>The container, not every member: a record's generated ToString would format them all and pull that code into crioci-monitor.</summary>
    public override string ToString() => $"monitor session of {Id}";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
