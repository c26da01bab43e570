using System.Text.Json;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Cli;

/// <summary>`state ID`: the runtime-spec state JSON on stdout.</summary>
internal static class StateCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var id = args.Required(0, "container ID");
        var state = runtime.GetState(id) ?? throw new Core.NotFoundException($"container {id} does not exist");
        var bundle = runtime.Bundle(id) ?? "";
        var document = new OciState(SpecDefaults.OciVersion, id, state.Status.ToSpecString(),
            state.Status == ContainerStatus.Stopped ? 0 : state.Pid, bundle, null);
        Console.WriteLine(JsonSerializer.Serialize(document, OciJsonContext.Default.OciState));
        return 0;
    }
}
