using CriOci.OciRuntime.Security;

namespace CriOci.OciRuntime.Tests.Security;

public sealed class MountLabelTests
{
    [Theory]
    [InlineData("", "system_u:object_r:container_file_t:s0:c1,c2", "context=\"system_u:object_r:container_file_t:s0:c1,c2\"")]
    [InlineData("mode=755,size=65536k", "system_u:object_r:container_file_t:s0", "mode=755,size=65536k,context=\"system_u:object_r:container_file_t:s0\"")]
    [InlineData("mode=755", null, "mode=755")]
    [InlineData("mode=755", "", "mode=755")]
    [InlineData("", null, "")]
    public void AddTo_AppendsQuotedContextOption(string data, string? label, string expected)
    {
        Assert.Equal(expected, MountLabel.AddTo(data, label));
    }

    [Theory]
    [InlineData("tmpfs", false, true)]
    [InlineData("devpts", false, true)]
    [InlineData("mqueue", false, true)]
    [InlineData("proc", false, false)]
    [InlineData("sysfs", false, false)]
    [InlineData("cgroup", false, false)]
    [InlineData("cgroup2", false, false)]
    [InlineData("bind", true, false)]
    [InlineData("tmpfs", true, false)]
    public void Applies_LabelledFileSystems(string type, bool bind, bool applies)
    {
        Assert.Equal(applies, MountLabel.Applies(type, bind));
    }
}
