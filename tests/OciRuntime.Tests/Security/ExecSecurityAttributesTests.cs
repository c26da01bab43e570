using CriOci.Core;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Security;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Security;

/// <summary>
/// What would be written where, over a /proc built here: the attribute files exist as the
/// kernel's do (they are opened, never created), and hold exactly what was written afterwards.
/// </summary>
public sealed class ExecSecurityAttributesTests : IDisposable
{
    private readonly string _proc = Directory.CreateTempSubdirectory("crioci-lsm-proc-").FullName;

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    private string AttrFile(string relative)
    {
        var path = Path.Combine(_proc, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }

    private static ProcessSpec Process(string? profile = null, string? label = null) =>
        new() { User = new UserSpec(), Cwd = "/", ApparmorProfile = profile, SelinuxLabel = label };

    private static readonly HostSecurityModules Both = new(AppArmor: true, SELinux: true);

    [Fact]
    public void Apply_AppArmorWithPerModuleDirectory_ExecRequestThere()
    {
        var perModule = AttrFile("thread-self/attr/apparmor/exec");
        var shared = AttrFile("self/attr/exec");

        new ExecSecurityAttributes(_proc, Both).Apply(Process(profile: "crioci-default"));

        Assert.Equal("exec crioci-default", File.ReadAllText(perModule));
        Assert.Equal("", File.ReadAllText(shared));
    }

    [Fact]
    public void Apply_AppArmorOnOlderKernel_SharedExecAttribute()
    {
        var shared = AttrFile("self/attr/exec");

        new ExecSecurityAttributes(_proc, Both).Apply(Process(profile: "my-profile"));

        Assert.Equal("exec my-profile", File.ReadAllText(shared));
    }

    [Fact]
    public void Apply_SELinuxLabel_ThreadsExecAttribute()
    {
        var exec = AttrFile("thread-self/attr/exec");
        var appArmor = AttrFile("thread-self/attr/apparmor/exec");

        new ExecSecurityAttributes(_proc, Both).Apply(Process(label: "system_u:system_r:container_t:s0:c1,c2"));

        Assert.Equal("system_u:system_r:container_t:s0:c1,c2", File.ReadAllText(exec));
        Assert.Equal("", File.ReadAllText(appArmor));
    }

    [Fact]
    public void Apply_NothingAsked_NothingWritten()
    {
        var exec = AttrFile("thread-self/attr/exec");
        var appArmor = AttrFile("thread-self/attr/apparmor/exec");

        new ExecSecurityAttributes(_proc, HostSecurityModules.None).Apply(Process());

        Assert.Equal("", File.ReadAllText(exec));
        Assert.Equal("", File.ReadAllText(appArmor));
    }

    [Fact]
    public void Apply_HostWithoutAppArmor_RefusedBeforeAnythingIsWritten()
    {
        var exec = AttrFile("thread-self/attr/exec");
        var appArmor = AttrFile("thread-self/attr/apparmor/exec");

        var error = Assert.Throws<FailedPreconditionException>(() =>
            new ExecSecurityAttributes(_proc, new HostSecurityModules(AppArmor: false, SELinux: true)).Apply(Process("p", "system_u:system_r:container_t:s0")));

        Assert.StartsWith("process.apparmorProfile:", error.Message);
        Assert.Equal("", File.ReadAllText(exec));
        Assert.Equal("", File.ReadAllText(appArmor));
    }

    [Fact]
    public void Apply_AttributeFileMissing_InitErrorNamingFieldAndPath()
    {
        var error = Assert.Throws<InitException>(() => new ExecSecurityAttributes(_proc, Both).Apply(Process(label: "l")));

        Assert.StartsWith("process.selinuxLabel: cannot apply l: open " + Path.Combine(_proc, "thread-self/attr/exec"), error.Message);
        Assert.False(File.Exists(Path.Combine(_proc, "thread-self/attr/exec")), "the attribute file was created");
    }
}
