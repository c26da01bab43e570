using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Cli;

/// <summary>`pause ID` and `resume ID`: the cgroup freezer.</summary>
internal static class PauseCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args, bool pause)
    {
        var id = args.Required(0, "container ID");
        var state = runtime.GetState(id) ?? throw new Core.NotFoundException($"container {id} does not exist");
        var expected = pause ? ContainerStatus.Running : ContainerStatus.Paused;
        if (state.Status != expected)
        {
            throw new Core.FailedPreconditionException($"container {id} is {state.Status.ToSpecString()}, not {expected.ToSpecString()}");
        }
        runtime.Cgroup(id).SetFrozen(pause);
        return 0;
    }
}
