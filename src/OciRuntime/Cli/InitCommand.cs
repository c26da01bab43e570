using CriOci.OciRuntime.Init;

namespace CriOci.OciRuntime.Cli;

/// <summary>`init [--cgroup PATH] [--id ID] [--console-socket-fd] BUNDLE`: internal, the first process in a new container.</summary>
internal static class InitCommand
{
    public static int Run(CliArguments args) => ContainerInit.Run(args.Required(0, "bundle"), args.Flag("cgroup"), args.Flag("id") ?? "", args.Switch("console-socket-fd"));
}
