using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Security;
using CriOci.PodSandbox.Containers;
using ProfileType = CriOci.Cri.V1.SecurityProfile.Types.ProfileType;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class LinuxSecurityModulesTests
{
    /// <summary>Loaded profiles by name; records every load.</summary>
    private sealed class FakeAppArmorProfiles(params string[] loaded) : IAppArmorProfiles
    {
        private readonly HashSet<string> _loaded = [.. loaded];

        public List<(string Name, string Text)> Loads { get; } = [];

        public bool IsLoaded(string name) => _loaded.Contains(name);

        public Task LoadAsync(string name, string profileText, CancellationToken cancellationToken)
        {
            Loads.Add((name, profileText));
            _loaded.Add(name);
            return Task.CompletedTask;
        }
    }

    private static LinuxContainerSecurityContext AppArmor(ProfileType type, string reference = "", bool privileged = false) =>
        new() { Apparmor = new SecurityProfile { ProfileType = type, LocalhostRef = reference }, Privileged = privileged };

    private static LinuxSecurityModules Modules(bool appArmor, bool seLinux, FakeAppArmorProfiles? profiles = null) =>
        new(new HostSecurityModules(appArmor, seLinux), profiles ?? new FakeAppArmorProfiles());

    // ---- AppArmor

    [Fact]
    public async Task RuntimeDefault_OnAppArmorNode_DefaultProfileLoadedOnceAndNamed()
    {
        var profiles = new FakeAppArmorProfiles();
        var modules = Modules(appArmor: true, seLinux: false, profiles);

        var first = await modules.AppArmorProfileAsync(AppArmor(ProfileType.RuntimeDefault), CancellationToken.None);
        var second = await modules.AppArmorProfileAsync(null, CancellationToken.None);

        Assert.Equal("crioci-default", first);
        Assert.Equal("crioci-default", second);
        var load = Assert.Single(profiles.Loads);
        Assert.Equal("crioci-default", load.Name);
        Assert.Equal(AppArmorDefaultProfile.Generate(), load.Text);
    }

    [Fact]
    public async Task RuntimeDefault_ProfileAlreadyLoaded_NotLoadedAgain()
    {
        var profiles = new FakeAppArmorProfiles("crioci-default");

        var profile = await Modules(appArmor: true, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.RuntimeDefault), CancellationToken.None);

        Assert.Equal("crioci-default", profile);
        Assert.Empty(profiles.Loads);
    }

    [Fact]
    public async Task RuntimeDefault_Privileged_NoProfileAndNothingLoaded()
    {
        var profiles = new FakeAppArmorProfiles();

        var profile = await Modules(appArmor: true, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.RuntimeDefault, privileged: true), CancellationToken.None);

        Assert.Null(profile);
        Assert.Empty(profiles.Loads);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Unconfined_NoProfile(bool hostHasAppArmor)
    {
        var profiles = new FakeAppArmorProfiles();

        var profile = await Modules(hostHasAppArmor, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.Unconfined), CancellationToken.None);

        Assert.Null(profile);
        Assert.Empty(profiles.Loads);
    }

    [Fact]
    public async Task RuntimeDefault_WithoutAppArmor_NoProfileAndNothingLoaded()
    {
        var profiles = new FakeAppArmorProfiles();

        var profile = await Modules(appArmor: false, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.RuntimeDefault), CancellationToken.None);

        Assert.Null(profile);
        Assert.Empty(profiles.Loads);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Localhost_Loaded_ThatProfileEvenWhenPrivileged(bool privileged)
    {
        var profiles = new FakeAppArmorProfiles("my-profile");

        var profile = await Modules(appArmor: true, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.Localhost, "my-profile", privileged), CancellationToken.None);

        Assert.Equal("my-profile", profile);
        Assert.Empty(profiles.Loads);
    }

    [Fact]
    public async Task LegacyLocalhost_Loaded_ThatProfile()
    {
#pragma warning disable CS0612
        var security = new LinuxContainerSecurityContext { ApparmorProfile = "localhost/legacy-profile" };
#pragma warning restore CS0612

        var profile = await Modules(appArmor: true, seLinux: false, new FakeAppArmorProfiles("legacy-profile")).AppArmorProfileAsync(security, CancellationToken.None);

        Assert.Equal("legacy-profile", profile);
    }

    [Fact]
    public async Task Localhost_NotLoaded_FailedPreconditionNamingIt()
    {
        var profiles = new FakeAppArmorProfiles("other-profile");

        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            Modules(appArmor: true, seLinux: false, profiles).AppArmorProfileAsync(AppArmor(ProfileType.Localhost, "my-profile"), CancellationToken.None));

        Assert.Contains("linux.security_context.apparmor", error.Message);
        Assert.Contains("my-profile", error.Message);
        Assert.Contains("not loaded", error.Message);
        Assert.Empty(profiles.Loads);
    }

    [Fact]
    public async Task Localhost_WithoutAppArmor_FailedPreconditionNamingFieldAndProfile()
    {
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            Modules(appArmor: false, seLinux: false, new FakeAppArmorProfiles("my-profile")).AppArmorProfileAsync(AppArmor(ProfileType.Localhost, "my-profile"), CancellationToken.None));

        Assert.Contains("linux.security_context.apparmor", error.Message);
        Assert.Contains("my-profile", error.Message);
        Assert.Contains("AppArmor is not enabled", error.Message);
    }

    [Fact]
    public async Task LegacyLocalhost_WithoutAppArmor_RefusedToo()
    {
#pragma warning disable CS0612
        var legacy = new LinuxContainerSecurityContext { ApparmorProfile = "localhost/legacy" };
#pragma warning restore CS0612

        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() => LinuxSecurityModules.None.AppArmorProfileAsync(legacy, CancellationToken.None));

        Assert.Contains("legacy", error.Message);
    }

    // ---- SELinux

    private static LinuxContainerSecurityContext Container(SELinuxOption? options = null, bool privileged = false) =>
        new() { SelinuxOptions = options, Privileged = privileged };

    private static LinuxSandboxSecurityContext Pod(SELinuxOption? options = null) => new() { SelinuxOptions = options };

    [Fact]
    public void SELinux_ContainerOptions_ProcessAndMountLabels()
    {
        var labels = Modules(appArmor: false, seLinux: true).SELinuxLabelsFor(Container(new SELinuxOption { Type = "my_t", Level = "s0:c1,c2" }), Pod(), "pod1");

        Assert.Equal(new SELinuxLabels("system_u:system_r:my_t:s0:c1,c2", "system_u:object_r:container_file_t:s0:c1,c2"), labels);
    }

    [Fact]
    public void SELinux_NoOptions_DefaultLabelsWithThePodsLevel()
    {
        var labels = Modules(appArmor: false, seLinux: true).SELinuxLabelsFor(Container(), Pod(), "pod1");

        Assert.Equal(new SELinuxLabels($"system_u:system_r:container_t:{SELinuxLabels.PodLevel("pod1")}",
            $"system_u:object_r:container_file_t:{SELinuxLabels.PodLevel("pod1")}"), labels);
    }

    [Fact]
    public void SELinux_PodMountLabel_IsTheMountLabelItsContainersGetByDefault()
    {
        var modules = Modules(appArmor: false, seLinux: true);

        Assert.Equal(modules.SELinuxLabelsFor(Container(), Pod(), "pod1")!.MountLabel, modules.PodMountLabel(Pod(), "pod1"));
        Assert.Null(Modules(appArmor: false, seLinux: false).PodMountLabel(Pod(), "pod1"));
    }

    [Fact]
    public void SELinux_PrivilegedWithoutOptions_NoLabels()
    {
        Assert.Null(Modules(appArmor: false, seLinux: true).SELinuxLabelsFor(Container(privileged: true), Pod(), "pod1"));
    }

    [Fact]
    public void SELinux_PrivilegedWithPodOptions_LabelledAsAsked()
    {
        var labels = Modules(appArmor: false, seLinux: true).SELinuxLabelsFor(Container(privileged: true), Pod(new SELinuxOption { Type = "spc_t" }), "pod1");

        Assert.StartsWith("system_u:system_r:spc_t:", labels!.ProcessLabel);
    }

    [Fact]
    public void SELinux_WithoutSELinux_NoLabels()
    {
        Assert.Null(Modules(appArmor: true, seLinux: false).SELinuxLabelsFor(Container(), Pod(), "pod1"));
    }

    [Fact]
    public void SELinuxOptions_WithoutSELinux_FailedPreconditionNamingTheField()
    {
        var modules = Modules(appArmor: false, seLinux: false);

        var container = Assert.Throws<FailedPreconditionException>(() =>
            modules.SELinuxLabelsFor(Container(new SELinuxOption { Level = "s0:c1,c2" }), Pod(), "pod1"));
        var pod = Assert.Throws<FailedPreconditionException>(() =>
            modules.SELinuxLabelsFor(Container(), Pod(new SELinuxOption { Type = "spc_t" }), "pod1"));

        Assert.Contains("config.linux.security_context.selinux_options", container.Message);
        Assert.Contains("SELinux is not enabled", container.Message);
        Assert.Contains("sandbox_config.linux.security_context.selinux_options", pod.Message);
    }

    [Fact]
    public void EmptySELinuxOptions_WithoutSELinux_Accepted()
    {
        LinuxSecurityModules.None.CheckSELinux(new SELinuxOption(), "field");
        LinuxSecurityModules.None.CheckSELinux(null, "field");
        Assert.Null(LinuxSecurityModules.None.SELinuxLabelsFor(Container(new SELinuxOption()), Pod(new SELinuxOption()), "pod1"));
    }

    [Fact]
    public void Detect_ReadsTheHostAsTheRuntimeDoes()
    {
        var modules = LinuxSecurityModules.Detect();

        var host = HostSecurityModules.Detect();
        Assert.Equal(host.AppArmor, modules.AppArmor);
        Assert.Equal(host.SELinux, modules.SELinux);
        Assert.Equal(File.Exists("/sys/fs/selinux/enforce"), modules.SELinux);
    }
}
