using System.Net;
using CriOci.TestSupport;

namespace CriOci.E2E;

public sealed class RegistryServerTests
{
    [Fact]
    public async Task DisposeAsync_RunningServer_StopsListeningAndDeletesStorage()
    {
        // Arrange
        var server = await RegistryServer.StartAsync();
        var storage = server.StorageDirectory;
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        using (var response = await http.GetAsync("v2/"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Act
        await server.DisposeAsync();

        // Assert
        Assert.False(Directory.Exists(storage), $"{storage} should be deleted");
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("v2/"));
        Assert.True(File.Exists(server.LogPath));
    }

    [Fact]
    public async Task StartAsync_TwoServers_GetDistinctPorts()
    {
        await using var first = await RegistryServer.StartAsync();
        await using var second = await RegistryServer.StartAsync();

        Assert.NotEqual(first.Port, second.Port);
        Assert.Equal($"127.0.0.1:{first.Port}", first.Host);
    }
}
