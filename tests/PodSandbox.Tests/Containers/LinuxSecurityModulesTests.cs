using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class LinuxSecurityModulesTests
{
    private static LinuxContainerSecurityContext AppArmor(SecurityProfile.Types.ProfileType type, string reference = "") =>
        new() { Apparmor = new SecurityProfile { ProfileType = type, LocalhostRef = reference } };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RuntimeDefaultOrUnconfinedAppArmor_IsAccepted(bool hostHasAppArmor)
    {
        var modules = new LinuxSecurityModules(hostHasAppArmor, SELinux: false);

        modules.CheckAppArmor(AppArmor(SecurityProfile.Types.ProfileType.RuntimeDefault));
        modules.CheckAppArmor(AppArmor(SecurityProfile.Types.ProfileType.Unconfined));
        modules.CheckAppArmor(null);
    }

    [Fact]
    public void LocalhostAppArmor_WithoutAppArmor_FailedPreconditionNamingFieldAndProfile()
    {
        var error = Assert.Throws<FailedPreconditionException>(() =>
            LinuxSecurityModules.None.CheckAppArmor(AppArmor(SecurityProfile.Types.ProfileType.Localhost, "my-profile")));

        Assert.Contains("linux.security_context.apparmor", error.Message);
        Assert.Contains("my-profile", error.Message);
        Assert.Contains("not enabled on this node", error.Message);
    }

    [Fact]
    public void LegacyLocalhostAppArmorField_IsCheckedToo()
    {
#pragma warning disable CS0612 // the deprecated field is what is under test
        var legacy = new LinuxContainerSecurityContext { ApparmorProfile = "localhost/legacy" };
#pragma warning restore CS0612

        var error = Assert.Throws<FailedPreconditionException>(() => LinuxSecurityModules.None.CheckAppArmor(legacy));

        Assert.Contains("legacy", error.Message);
    }

    [Fact]
    public void LocalhostAppArmor_OnAnAppArmorHost_RefusedAsNotSupportedRatherThanDropped()
    {
        var error = Assert.Throws<FailedPreconditionException>(() =>
            new LinuxSecurityModules(AppArmor: true, SELinux: false).CheckAppArmor(AppArmor(SecurityProfile.Types.ProfileType.Localhost, "p")));

        Assert.Contains("cannot apply AppArmor profiles yet", error.Message);
    }

    [Fact]
    public void SELinuxOptions_WithoutSELinux_FailedPreconditionNamingTheField()
    {
        var error = Assert.Throws<FailedPreconditionException>(() =>
            LinuxSecurityModules.None.CheckSELinux(new SELinuxOption { Level = "s0:c1,c2" }, "config.linux.security_context.selinux_options"));

        Assert.Contains("config.linux.security_context.selinux_options", error.Message);
        Assert.Contains("SELinux is not enabled", error.Message);
    }

    [Fact]
    public void EmptySELinuxOptions_AreAccepted()
    {
        LinuxSecurityModules.None.CheckSELinux(new SELinuxOption(), "field");
        LinuxSecurityModules.None.CheckSELinux(null, "field");
    }

    [Fact]
    public void Detect_ReadsThisHost()
    {
        var modules = LinuxSecurityModules.Detect();

        Assert.Equal(File.Exists("/sys/fs/selinux/enforce"), modules.SELinux);
        var apparmor = File.Exists("/sys/module/apparmor/parameters/enabled") && File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim() == "Y";
        Assert.Equal(apparmor, modules.AppArmor);
    }
}
