using System.Globalization;
using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// `monitor --root R --id ID --bundle B [--log FILE] [--stdin [--stdin-once]] --sync-fd N [--external BINARY --external-root DIR -- GLOBAL-ARGS...]`:
/// internal, see <see cref="ContainerMonitor"/>. `monitor --request-fd N` waits for those
/// arguments on descriptor N (a monitor on standby, see <see cref="Launch.StandbyMonitor"/>).
/// </summary>
internal static class MonitorCommand
{
    /// <summary>The monitor's switches, for a request read from --request-fd.</summary>
    private static readonly HashSet<string> Switches = new(StringComparer.Ordinal) { "detached", "stdin", "stdin-once" };

    public static int Run(CliArguments args, string self)
    {
        if (args.Flag("request-fd") is { } requestFd)
        {
            // Started on standby (Launch.StandbyMonitor): the container comes later, over the pipe.
            var request = Launch.StandbyMonitor.ReadRequest(int.Parse(requestFd, CultureInfo.InvariantCulture));
            if (request is null)
            {
                return 0;
            }
            args = CliArguments.Parse(request, Switches);
        }
        var arguments = new MonitorArguments(
            args.Flag("root") ?? throw new CliException("monitor needs --root"),
            args.Flag("id") ?? throw new CliException("monitor needs --id"),
            args.Flag("bundle") ?? throw new CliException("monitor needs --bundle"),
            args.Flag("log"),
            int.Parse(args.Flag("sync-fd") ?? throw new CliException("monitor needs --sync-fd"), CultureInfo.InvariantCulture),
            Stdin: args.Switch("stdin"),
            StdinOnce: args.Switch("stdin-once"),
            External: External.ExternalBinary.FromMonitorArguments(args.Flag("external"), args.Flag("external-root"), args.Positional));
        // --detached: the caller started us in our own session (see MonitorReaper); a monitor
        // started from a terminal first detaches into one.
        return args.Switch("detached") ? ContainerMonitor.Run(arguments, self) : ContainerMonitor.Detach(arguments, self);
    }
}
