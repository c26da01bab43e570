using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Containers;
using ProfileType = CriOci.Cri.V1.SecurityProfile.Types.ProfileType;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class AppArmorRequestTests
{
    private static LinuxContainerSecurityContext Structured(ProfileType type, string reference = "") =>
        new() { Apparmor = new SecurityProfile { ProfileType = type, LocalhostRef = reference } };

#pragma warning disable CS0612 // the deprecated field is what these cases are about
    private static LinuxContainerSecurityContext Legacy(string profile) => new() { ApparmorProfile = profile };
#pragma warning restore CS0612

    public static TheoryData<string, LinuxContainerSecurityContext?, ProfileType, string?> Cases => new()
    {
        { "no security context", null, ProfileType.RuntimeDefault, null },
        { "nothing set", new LinuxContainerSecurityContext(), ProfileType.RuntimeDefault, null },
        { "RuntimeDefault", Structured(ProfileType.RuntimeDefault), ProfileType.RuntimeDefault, null },
        { "Unconfined", Structured(ProfileType.Unconfined), ProfileType.Unconfined, null },
        { "Localhost", Structured(ProfileType.Localhost, "my-profile"), ProfileType.Localhost, "my-profile" },
        { "Localhost with prefix", Structured(ProfileType.Localhost, "localhost/my-profile"), ProfileType.Localhost, "my-profile" },
        { "legacy runtime/default", Legacy("runtime/default"), ProfileType.RuntimeDefault, null },
        { "legacy unconfined", Legacy("unconfined"), ProfileType.Unconfined, null },
        { "legacy localhost/NAME", Legacy("localhost/legacy-profile"), ProfileType.Localhost, "legacy-profile" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void From_EachProfileKind_MapsToTypeAndName(string why, LinuxContainerSecurityContext? security, ProfileType type, string? name)
    {
        var request = AppArmorRequest.From(security);

        Assert.True(request == new AppArmorRequest(type, name), $"{why}: got {request}");
    }

    [Fact]
    public void From_BothFieldsSet_StructuredFieldWins()
    {
        var security = Structured(ProfileType.Unconfined);
#pragma warning disable CS0612
        security.ApparmorProfile = "localhost/legacy-profile";
#pragma warning restore CS0612

        Assert.Equal(ProfileType.Unconfined, AppArmorRequest.From(security).Type);
    }

    [Theory]
    [InlineData("docker/default")]
    [InlineData("my-profile")]
    public void From_UnknownLegacyString_InvalidArgumentNamingFieldAndValue(string legacy)
    {
        var error = Assert.Throws<InvalidArgumentException>(() => AppArmorRequest.From(Legacy(legacy)));

        Assert.Contains("apparmor_profile", error.Message);
        Assert.Contains(legacy, error.Message);
    }

    [Fact]
    public void From_LocalhostWithoutName_InvalidArgument()
    {
        Assert.Throws<InvalidArgumentException>(() => AppArmorRequest.From(Structured(ProfileType.Localhost, "localhost/")));
        Assert.Throws<InvalidArgumentException>(() => AppArmorRequest.From(Legacy("localhost/")));
    }
}
