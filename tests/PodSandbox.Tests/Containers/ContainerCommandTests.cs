using CriOci.Core;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class ContainerCommandTests
{
    /// <summary>
    /// Kubernetes' table (concepts/containers "Define a command and arguments"): command
    /// replaces ENTRYPOINT and drops CMD; args replace CMD; with neither the image decides.
    /// </summary>
    public static TheoryData<string, string[], string[], string[], string[], string[]> ResolveCases => new()
    {
        { "neither: image entrypoint and cmd", [], [], ["/entry"], ["cmd-arg"], ["/entry", "cmd-arg"] },
        { "neither: image cmd only", [], [], [], ["/bin/sh", "-c", "x"], ["/bin/sh", "-c", "x"] },
        { "neither: image entrypoint only", [], [], ["/entry", "e1"], [], ["/entry", "e1"] },
        { "command only: image entrypoint and cmd ignored", ["/cmd"], [], ["/entry"], ["cmd-arg"], ["/cmd"] },
        { "args only: image entrypoint kept, cmd replaced", [], ["a1", "a2"], ["/entry"], ["cmd-arg"], ["/entry", "a1", "a2"] },
        { "args only: no image entrypoint", [], ["/bin/echo", "hi"], [], ["cmd-arg"], ["/bin/echo", "hi"] },
        { "command and args: image ignored", ["/cmd", "c1"], ["a1"], ["/entry"], ["cmd-arg"], ["/cmd", "c1", "a1"] },
        { "entrypoint [\"\"] means none", [], [], [""], ["/bin/sh"], ["/bin/sh"] },
        { "entrypoint [\"\"] with args", [], ["/bin/true"], [""], ["/bin/sh"], ["/bin/true"] },
    };

    [Theory]
    [MemberData(nameof(ResolveCases))]
    public void Resolve_CriAndImage_FollowsKubernetesRules(string name, string[] command, string[] args, string[] entrypoint, string[] cmd, string[] expected)
    {
        var resolved = ContainerCommand.Resolve(command, args, entrypoint, cmd);

        Assert.True(expected.SequenceEqual(resolved), $"{name}: got [{string.Join(", ", resolved)}]");
    }

    public static TheoryData<string[], string[]> NothingCases => new()
    {
        { [], [] },
        { [""], [] },
    };

    [Theory]
    [MemberData(nameof(NothingCases))]
    public void Resolve_NothingToRun_ThrowsInvalidArgument(string[] entrypoint, string[] cmd)
    {
        var exception = Assert.Throws<InvalidArgumentException>(() => ContainerCommand.Resolve([], [], entrypoint, cmd));

        Assert.Contains("no command", exception.Message);
    }

    [Fact]
    public void MergeEnvironment_ContainerOverridesImage_KeepsImageOrderAndAppendsNewKeys()
    {
        var merged = ContainerCommand.MergeEnvironment(
            ["PATH=/usr/bin:/bin", "LANG=C", "HOME=/root"],
            [("LANG", "en_US.UTF-8"), ("EXTRA", "1"), ("PATH", "/custom")]);

        Assert.Equal(["PATH=/custom", "LANG=en_US.UTF-8", "HOME=/root", "EXTRA=1"], merged);
    }

    [Fact]
    public void MergeEnvironment_RepeatedContainerKey_LastWins()
    {
        var merged = ContainerCommand.MergeEnvironment([], [("A", "1"), ("B", "2"), ("A", "3")]);

        Assert.Equal(["A=3", "B=2"], merged);
    }

    [Fact]
    public void MergeEnvironment_ValuesWithEqualsAndEmpty_ArePreserved()
    {
        var merged = ContainerCommand.MergeEnvironment(["OPTS=a=b", "EMPTY="], [("URL", "http://x/?q=1"), ("BLANK", "")]);

        Assert.Equal(["OPTS=a=b", "EMPTY=", "URL=http://x/?q=1", "BLANK="], merged);
    }

    [Fact]
    public void MergeEnvironment_ImageEntryWithoutEquals_IsKeptAndCanBeOverridden()
    {
        var merged = ContainerCommand.MergeEnvironment(["FLAG", "OTHER=1"], [("FLAG", "on")]);

        Assert.Equal(["FLAG=on", "OTHER=1"], merged);
    }
}
