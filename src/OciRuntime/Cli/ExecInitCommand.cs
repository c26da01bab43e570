using CriOci.OciRuntime.Init;

namespace CriOci.OciRuntime.Cli;

/// <summary>`exec-init [--cgroup PATH] [--bundle DIR] [--console-socket-fd] PROCESS.json`: internal, becomes an extra process in a running container.</summary>
internal static class ExecInitCommand
{
    public static int Run(CliArguments args) => ExecInit.Run(args.Required(0, "process file"), args.Flag("cgroup"), args.Flag("bundle"), args.Switch("console-socket-fd"));
}
