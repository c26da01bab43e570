using System.Text.Json;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// Every hook's state names the container by its init's pid on the host (runtime-spec "state":
/// "the ID of the container process, as seen by the host"), including the hooks the init runs
/// itself inside the container's pid namespace, where it is pid 1.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class HookStatePidTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("hookpid");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    [Fact]
    public async Task EveryHook_StateOnStdin_CarriesTheInitsHostPid()
    {
        var record = Path.Combine(_container.Bundle.Directory, "hooks");
        Directory.CreateDirectory(record);
        HookSpec HostHook(string phase) => new() { Path = "/bin/sh", Args = ["sh", "-c", $"cat > {record}/{phase}.json"] };
        var spec = _container.Bundle.WriteConfig("true");
        spec = spec with
        {
            Hooks = new HooksSpec
            {
                Prestart = [HostHook("prestart")],
                CreateRuntime = [HostHook("createRuntime")],
                CreateContainer = [HostHook("createContainer")],
                // Runs in the container, after pivot_root: it records into the container's root.
                StartContainer = [new HookSpec { Path = "/bin/sh", Args = ["sh", "-c", "cat > /startContainer.json"] }],
                Poststart = [HostHook("poststart")],
            },
        };

        var pid = await _container.CreateAsync(spec);
        var started = await _container.VerbAsync("start", _container.Id);
        Assert.True(started.ExitCode == 0, started.ToString());
        await _container.WaitForStatusAsync("stopped");

        var files = new[] { "prestart", "createRuntime", "createContainer", "poststart" }.Select(phase => Path.Combine(record, phase + ".json"))
            .Append(Path.Combine(_container.Bundle.Rootfs, "startContainer.json"));
        Assert.True(pid > 1, $"the init's host pid is {pid}");
        Assert.All(files, file =>
        {
            using var state = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal(pid, state.RootElement.GetProperty("pid").GetInt32());
        });
    }
}
