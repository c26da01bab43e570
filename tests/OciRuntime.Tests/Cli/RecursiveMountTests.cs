using System.Text.Json;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// Recursive mount options (rro, rnosuid, ...) on a bind mount of a host directory that has a
/// submount of its own, checked from inside real containers.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class RecursiveMountTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("rro");
    private string _volume = "";
    private string _submount = "";

    public Task InitializeAsync()
    {
        _volume = Path.Combine(_container.Bundle.Directory, "volume");
        _submount = Path.Combine(_volume, "sub");
        Directory.CreateDirectory(_submount);
        Assert.Equal(0, mount("tmpfs", _submount, "tmpfs", 0, "size=1m"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        umount2(_submount, MNT_DETACH);
        await _container.DisposeAsync();
    }

    private RuntimeSpec SpecWithVolume(string[] options, string script)
    {
        var spec = _container.Bundle.WriteConfig("sh", "-c", script);
        return spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/data", Type = "bind", Source = _volume, Options = options }] };
    }

    private const string WriteBothLevels = "echo a > /data/top; echo top=$?; echo b > /data/sub/inner; echo sub=$?";

    [Fact]
    public async Task Rro_BindWithSubmount_SubmountIsReadOnlyToo()
    {
        var (result, output) = await _container.RunAsync(SpecWithVolume(["rbind", "rro"], WriteBothLevels));

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Contains("top=1", output);
        Assert.Contains("sub=1", output);
        Assert.Contains("Read-only file system", output);
        Assert.False(File.Exists(Path.Combine(_submount, "inner")), "the container wrote through an rro mount");
    }

    /// <summary>The reason rro exists: a plain ro bind remount leaves the submount writable.</summary>
    [Fact]
    public async Task Ro_BindWithSubmount_OnlyTheTopIsReadOnly()
    {
        var (result, output) = await _container.RunAsync(SpecWithVolume(["rbind", "ro"], WriteBothLevels));

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Contains("top=1", output);
        Assert.Contains("sub=0", output);
        Assert.Equal("b\n", File.ReadAllText(Path.Combine(_submount, "inner")));
    }

    [Fact]
    public async Task RroThenRrw_LastWordWins_SubmountWritable()
    {
        var (result, output) = await _container.RunAsync(SpecWithVolume(["rbind", "rro", "rrw"], WriteBothLevels));

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Contains("top=0", output);
        Assert.Contains("sub=0", output);
    }

    [Fact]
    public async Task RnosuidRnodevRnoexec_ReachTheSubmount()
    {
        var (result, output) = await _container.RunAsync(SpecWithVolume(["rbind", "rnosuid", "rnodev", "rnoexec", "rnoatime"], "grep ' /data/sub ' /proc/self/mountinfo"));

        Assert.True(result.ExitCode == 0, result + output);
        // mountinfo field 6: the per-mount options.
        var options = output.Split(' ')[5].Split(',');
        Assert.Contains("nosuid", options);
        Assert.Contains("nodev", options);
        Assert.Contains("noexec", options);
        Assert.Contains("noatime", options);
    }

    [Fact]
    public async Task Features_ListsTheRecursiveOptions()
    {
        var result = await CliRunner.RunAsync(_container.Runtime, "features");

        Assert.True(result.ExitCode == 0, result.ToString());
        var options = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("mountOptions").EnumerateArray().Select(o => o.GetString()).ToList();
        Assert.All(new[] { "rro", "rrw", "rnosuid", "rnodev", "rnoexec", "rrelatime", "rnoatime", "rstrictatime", "rnosymfollow" }, word => Assert.Contains(word, options));
    }
}
