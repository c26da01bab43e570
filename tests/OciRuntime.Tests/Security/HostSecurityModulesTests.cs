using CriOci.Core;
using CriOci.OciRuntime.Security;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Security;

/// <summary>Detection over a host root built here, and the refusal of what the host cannot apply.</summary>
public sealed class HostSecurityModulesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crioci-lsm-host-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void WriteFile(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Detect_EmptyRoot_Neither()
    {
        Assert.Equal(HostSecurityModules.None, HostSecurityModules.Detect(_root));
    }

    [Fact]
    public void Detect_AppArmorEnabledAndSecurityfsDirectory_AppArmor()
    {
        WriteFile("sys/module/apparmor/parameters/enabled", "Y\n");
        Directory.CreateDirectory(Path.Combine(_root, "sys/kernel/security/apparmor"));

        Assert.Equal(new HostSecurityModules(AppArmor: true, SELinux: false), HostSecurityModules.Detect(_root));
    }

    [Fact]
    public void Detect_AppArmorParameterNo_NotAppArmor()
    {
        WriteFile("sys/module/apparmor/parameters/enabled", "N\n");
        Directory.CreateDirectory(Path.Combine(_root, "sys/kernel/security/apparmor"));

        Assert.False(HostSecurityModules.Detect(_root).AppArmor);
    }

    /// <summary>runc's rule too: the module loaded but securityfs not mounted means profiles cannot be used.</summary>
    [Fact]
    public void Detect_AppArmorWithoutSecurityfs_NotAppArmor()
    {
        WriteFile("sys/module/apparmor/parameters/enabled", "Y\n");

        Assert.False(HostSecurityModules.Detect(_root).AppArmor);
    }

    [Fact]
    public void Detect_SelinuxfsMounted_SELinux()
    {
        WriteFile("sys/fs/selinux/enforce", "1");

        Assert.Equal(new HostSecurityModules(AppArmor: false, SELinux: true), HostSecurityModules.Detect(_root));
    }

    [Fact]
    public void Detect_ThisHost_AgreesWithSysfs()
    {
        var host = HostSecurityModules.Detect();

        Assert.Equal(File.Exists("/sys/fs/selinux/enforce"), host.SELinux);
        Assert.Equal(Directory.Exists("/sys/kernel/security/apparmor")
            && File.Exists("/sys/module/apparmor/parameters/enabled")
            && File.ReadAllText("/sys/module/apparmor/parameters/enabled").StartsWith('Y'), host.AppArmor);
    }

    private static RuntimeSpec Spec(string? profile = null, string? label = null, string? mountLabel = null) => new()
    {
        Process = new ProcessSpec { User = new UserSpec(), Cwd = "/", ApparmorProfile = profile, SelinuxLabel = label },
        Linux = new LinuxSpec { MountLabel = mountLabel },
    };

    public static TheoryData<string, string> Refusals => new()
    {
        { "process.apparmorProfile", "AppArmor is not enabled" },
        { "process.selinuxLabel", "SELinux is not enabled" },
        { "linux.mountLabel", "SELinux is not enabled" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void CheckSpec_HostWithoutTheModule_FailedPreconditionNamingTheField(string field, string reason)
    {
        var spec = field switch
        {
            "process.apparmorProfile" => Spec(profile: "my-profile"),
            "process.selinuxLabel" => Spec(label: "system_u:system_r:container_t:s0"),
            _ => Spec(mountLabel: "system_u:object_r:container_file_t:s0"),
        };

        var error = Assert.Throws<FailedPreconditionException>(() => HostSecurityModules.None.CheckSpec(spec));

        Assert.StartsWith(field + ":", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void CheckSpec_HostWithBoth_Accepted()
    {
        new HostSecurityModules(true, true).CheckSpec(Spec("p", "system_u:system_r:container_t:s0", "system_u:object_r:container_file_t:s0"));
    }

    [Fact]
    public void CheckSpec_NothingAsked_AcceptedAnywhere()
    {
        HostSecurityModules.None.CheckSpec(Spec());
        HostSecurityModules.None.CheckSpec(Spec("", "", ""));
    }
}
