using CriOci.CriServer.Tests.Fakes;

namespace CriOci.CriServer.Tests;

public sealed class ImageMappingTests
{
    public static TheoryData<string?, long?, string> Users => new()
    {
        { null, null, "" },
        { "", null, "" },
        { "0", 0, "" },
        { "1000", 1000, "" },
        { "1000:1000", 1000, "" },
        { "nobody", null, "nobody" },
        { "www-data:www-data", null, "www-data" },
        { ":1000", null, "" },
    };

    [Theory]
    [MemberData(nameof(Users))]
    public void ToCri_ConfigUser_NumericIsUidElseUsername(string? user, long? uid, string username)
    {
        var image = ImageMapping.ToCri(FakeImageService.Record("sha256:1", "x:1", user), pinned: false);

        Assert.Equal(uid, image.Uid?.Value);
        Assert.Equal(username, image.Username);
    }
}
