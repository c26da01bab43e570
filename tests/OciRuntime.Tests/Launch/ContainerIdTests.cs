using CriOci.Core;
using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Tests.Launch;

public sealed class ContainerIdTests
{
    public static TheoryData<string> ValidIds => new()
    {
        "a",
        "0",
        "abc123",
        "Pod_1.container-2+x",
        "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed",
        new string('a', 1024),
    };

    [Theory]
    [MemberData(nameof(ValidIds))]
    public void Validate_RuncCharacterSet_Accepts(string id)
    {
        var exception = Record.Exception(() => ContainerId.Validate(id));

        Assert.Null(exception);
    }

    public static TheoryData<string> InvalidIds => new()
    {
        "",
        ".",
        "..",
        ".hidden",
        "-dash",
        "_under",
        "../escape",
        "a/b",
        "/abs",
        "with space",
        "tab\t",
        "new\nline",
        "trailing-newline\n",
        "ünicode",
        "semi;colon",
        new string('a', 1025),
    };

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public void Validate_UnsafeId_ThrowsInvalidArgument(string id)
    {
        var exception = Assert.Throws<InvalidArgumentException>(() => ContainerId.Validate(id));

        Assert.StartsWith("invalid container ID", exception.Message);
    }
}
