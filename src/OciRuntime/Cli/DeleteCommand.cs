using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Cli;

/// <summary>`delete [--force] ID`: refuses a running container unless forced, as runc does.</summary>
internal static class DeleteCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var id = args.Required(0, "container ID");
        var state = runtime.GetState(id);
        if (state is null)
        {
            // runc: deleting a container that is already gone succeeds when forced.
            return args.Switch("force", "f") ? 0 : throw new Core.NotFoundException($"container {id} does not exist");
        }
        if (state.Status is State.ContainerStatus.Running && !args.Switch("force", "f"))
        {
            throw new Core.FailedPreconditionException($"container {id} is running: stop it first or use --force");
        }
        runtime.DeleteAsync(id, CancellationToken.None).GetAwaiter().GetResult();
        return 0;
    }
}
