using CriOci.OciRuntime.Init;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// `init [--cgroup PATH] [--id ID] [--console-socket-fd] [--idmap-fds-from FD] BUNDLE`: internal, the first
/// process in a new container. --idmap-fds-from: the id-mapped mounts' trees, in mount order, start at FD.
/// </summary>
internal static class InitCommand
{
    public static int Run(CliArguments args) => ContainerInit.Run(args.Required(0, "bundle"), args.Flag("cgroup"), args.Flag("id") ?? "", args.Switch("console-socket-fd"),
        args.Flag("idmap-fds-from") is { } first ? int.Parse(first, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture) : -1);
}
