using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Cli;

/// <summary>`kill ID [SIGNAL]`: SIGNAL by number or name, with or without SIG.</summary>
internal static class KillCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var id = args.Required(0, "container ID");
        var signal = args.Positional.Count > 1 ? Signals.Parse(args.Positional[1]) : Signals.SIGTERM;
        if (runtime.GetState(id) is not { } state)
        {
            throw new Core.NotFoundException($"container {id} does not exist");
        }
        if (state.Status == State.ContainerStatus.Stopped)
        {
            throw new Core.FailedPreconditionException($"container {id} is not running");
        }
        runtime.Kill(id, signal);
        return 0;
    }
}
