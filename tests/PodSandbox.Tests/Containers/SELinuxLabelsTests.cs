using CriOci.Cri.V1;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class SELinuxLabelsTests
{
    private static SELinuxOption Options(string user = "", string role = "", string type = "", string level = "") =>
        new() { User = user, Role = role, Type = type, Level = level };

    [Fact]
    public void For_EveryPartGiven_UsedAsIs()
    {
        var labels = SELinuxLabels.For(Options("user_u", "user_r", "my_t", "s0:c1,c2"), pod: null, "pod1");

        Assert.Equal("user_u:user_r:my_t:s0:c1,c2", labels.ProcessLabel);
        Assert.Equal("user_u:object_r:container_file_t:s0:c1,c2", labels.MountLabel);
    }

    [Fact]
    public void For_OnlyTypeGiven_DefaultsForTheRestAndThePodsLevel()
    {
        var level = SELinuxLabels.PodLevel("pod1");

        var labels = SELinuxLabels.For(Options(type: "spc_t"), pod: null, "pod1");

        Assert.Equal($"system_u:system_r:spc_t:{level}", labels.ProcessLabel);
        Assert.Equal($"system_u:object_r:container_file_t:{level}", labels.MountLabel);
    }

    [Fact]
    public void For_NoContainerOptions_ThePodsAreUsed()
    {
        var labels = SELinuxLabels.For(new SELinuxOption(), Options(type: "pod_t", level: "s0:c5,c9"), "pod1");

        Assert.Equal("system_u:system_r:pod_t:s0:c5,c9", labels.ProcessLabel);
        Assert.Equal("system_u:object_r:container_file_t:s0:c5,c9", labels.MountLabel);
    }

    [Fact]
    public void For_ContainerOptionsWithoutLevel_KeepThePodsLevel()
    {
        var labels = SELinuxLabels.For(Options(type: "my_t"), Options(type: "pod_t", level: "s0:c5,c9"), "pod1");

        Assert.Equal("system_u:system_r:my_t:s0:c5,c9", labels.ProcessLabel);
    }

    [Fact]
    public void For_NoOptionsAnywhere_ContainerSELinuxDefaults()
    {
        var labels = SELinuxLabels.For(null, null, "pod1");

        Assert.Equal($"system_u:system_r:container_t:{SELinuxLabels.PodLevel("pod1")}", labels.ProcessLabel);
    }

    [Theory]
    [InlineData("pod1")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("")]
    public void PodLevel_TwoDistinctOrderedCategoriesInRange_SameEveryTime(string podId)
    {
        var level = SELinuxLabels.PodLevel(podId);

        var match = System.Text.RegularExpressions.Regex.Match(level, @"^s0:c(\d+),c(\d+)$");
        Assert.True(match.Success, level);
        var first = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var second = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(first, 0, 1022);
        Assert.InRange(second, first + 1, 1023);
        Assert.Equal(level, SELinuxLabels.PodLevel(podId));
    }

    [Fact]
    public void PodLevel_DifferentPods_DifferentCategories()
    {
        var levels = Enumerable.Range(0, 50).Select(i => SELinuxLabels.PodLevel($"pod-{i}")).ToHashSet();

        // 50 pairs out of 523,776: a repeat here would mean the id hardly reaches the level.
        Assert.Equal(50, levels.Count);
    }
}
