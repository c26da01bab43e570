using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Cli;

/// <summary>`start ID`.</summary>
internal static class StartCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        runtime.Start(args.Required(0, "container ID"), CancellationToken.None);
        return 0;
    }
}
