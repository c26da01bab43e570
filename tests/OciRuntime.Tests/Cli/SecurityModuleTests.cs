using System.Text.Json;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Security;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// AppArmor and SELinux through the published crioci-runtime on this host. The machines these
/// tests run on have neither module, so what is checked is the refusal: a profile or label
/// config.json asks for is never dropped, and a refused create leaves nothing behind. Applying
/// them needs a host with the module (see the README); each test first checks the host is
/// still one without, and fails saying so otherwise.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class SecurityModuleTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("lsm");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _container.DisposeAsync();

    private static void RequireHostWithout(bool appArmor, bool seLinux)
    {
        var host = HostSecurityModules.Detect();
        Assert.False(appArmor && host.AppArmor, "this test needs a host without AppArmor; this one has it");
        Assert.False(seLinux && host.SELinux, "this test needs a host without SELinux; this one has it");
    }

    private string CgroupsPath => "/crioci-tests/" + _container.Id;

    public static TheoryData<string, string> Refusals => new()
    {
        { "apparmor", "process.apparmorProfile: profile crioci-default asked for, but AppArmor is not enabled on this host" },
        { "selinux", "process.selinuxLabel: label system_u:system_r:container_t:s0:c1,c2 asked for, but SELinux is not enabled on this host" },
        { "mountLabel", "linux.mountLabel: label system_u:object_r:container_file_t:s0:c1,c2 asked for, but SELinux is not enabled on this host" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Create_ProfileOrLabelTheHostLacks_FailsNamingTheFieldAndLeavesNothing(string asked, string message)
    {
        RequireHostWithout(appArmor: asked == "apparmor", seLinux: asked != "apparmor");
        var spec = _container.Bundle.WriteConfig("true");
        spec = spec with
        {
            Process = spec.Process! with
            {
                ApparmorProfile = asked == "apparmor" ? "crioci-default" : null,
                SelinuxLabel = asked == "selinux" ? "system_u:system_r:container_t:s0:c1,c2" : null,
            },
            Linux = spec.Linux! with
            {
                CgroupsPath = CgroupsPath,
                MountLabel = asked == "mountLabel" ? "system_u:object_r:container_file_t:s0:c1,c2" : null,
            },
        };
        _container.Bundle.WriteSpec(spec);

        var created = await CliRunner.RunWithFilesAsync(_container.Runtime, _container.StdoutFile, _container.StderrFile,
            "--root", _container.Bundle.StateRoot, "create", "--bundle", _container.Bundle.Bundle, _container.Id);

        Assert.Equal(1, created.ExitCode);
        Assert.Contains(message, File.ReadAllText(_container.StderrFile));
        Assert.False(Directory.Exists(Path.Combine(_container.Bundle.StateRoot, _container.Id)), "state directory left behind");
        foreach (var mount in CgroupHierarchy.Detect().Mounts)
        {
            Assert.False(Directory.Exists(mount.MountPoint + CgroupsPath), $"cgroup {mount.MountPoint + CgroupsPath} left behind");
        }
        Assert.Equal(1, (await _container.VerbAsync("state", _container.Id)).ExitCode);
    }

    /// <summary>exec-init refuses too, from inside: the process file carries the profile (as it carries the container's).</summary>
    [Fact]
    public async Task Exec_ProfileTheHostLacks_FailsNamingTheFieldAndTheContainerRunsOn()
    {
        RequireHostWithout(appArmor: true, seLinux: false);
        var spec = _container.Bundle.WriteConfig("sleep", "1000");
        await _container.CreateAsync(spec);
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        var processFile = Path.Combine(_container.Bundle.Directory, "process.json");
        File.WriteAllBytes(processFile, JsonSerializer.SerializeToUtf8Bytes(
            spec.Process! with { Args = ["echo", "confined"], ApparmorProfile = "crioci-default" }, OciJsonContext.Default.ProcessSpec));

        var exec = await _container.ExecAsync("--process", processFile, _container.Id);

        Assert.NotEqual(0, exec.ExitCode);
        Assert.Contains("process.apparmorProfile: profile crioci-default asked for, but AppArmor is not enabled on this host", exec.Stderr);
        Assert.DoesNotContain("confined", exec.Stdout);
        Assert.Equal("running", await _container.StatusAsync());
        // The control: the same exec without the profile runs.
        File.WriteAllBytes(processFile, JsonSerializer.SerializeToUtf8Bytes(spec.Process! with { Args = ["echo", "confined"] }, OciJsonContext.Default.ProcessSpec));
        var control = await _container.ExecAsync("--process", processFile, _container.Id);
        Assert.True(control.ExitCode == 0, control.ToString());
        Assert.Contains("confined", control.Stdout);
    }

    /// <summary>features-linux.md: "enabled" is whether the runtime implements the module, whatever the host has.</summary>
    [Fact]
    public async Task Features_ReportsAppArmorAndSELinuxImplemented()
    {
        var result = await CliRunner.RunAsync(_container.Runtime, "features");

        Assert.True(result.ExitCode == 0, result.ToString());
        var linux = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("linux");
        Assert.True(linux.GetProperty("apparmor").GetProperty("enabled").GetBoolean());
        Assert.True(linux.GetProperty("selinux").GetProperty("enabled").GetBoolean());
    }
}
