using System.Text.Json;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Spec;

/// <summary>config.json must use the runtime-spec's JSON names (specs-go/config.go tags).</summary>
public sealed class OciJsonContextTests
{
    [Fact]
    public void Serialize_IdMappings_UsesSpecNamesContainerIDAndHostID()
    {
        var spec = new RuntimeSpec
        {
            Linux = new LinuxSpec
            {
                UidMappings = [new IdMappingSpec { ContainerId = 0, HostId = 100000, Size = 65536 }],
            },
        };

        using var json = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));
        var mapping = json.RootElement.GetProperty("linux").GetProperty("uidMappings")[0];

        Assert.True(mapping.TryGetProperty("containerID", out _), mapping.GetRawText());
        Assert.True(mapping.TryGetProperty("hostID", out _), mapping.GetRawText());
        Assert.True(mapping.TryGetProperty("size", out _), mapping.GetRawText());
    }

    [Fact]
    public void Deserialize_RuncStyleConfig_ReadsEveryField()
    {
        const string config = """
            {
              "ociVersion": "1.0.2",
              "process": {
                "terminal": false,
                "user": { "uid": 1, "gid": 2, "additionalGids": [3, 4] },
                "args": ["sh"],
                "env": ["PATH=/bin"],
                "cwd": "/",
                "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
                "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512 }],
                "noNewPrivileges": true,
                "oomScoreAdj": 100
              },
              "root": { "path": "rootfs", "readonly": true },
              "hostname": "h",
              "mounts": [{ "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"] }],
              "linux": {
                "namespaces": [{ "type": "pid" }, { "type": "network", "path": "/run/netns/x" }],
                "maskedPaths": ["/proc/kcore"],
                "readonlyPaths": ["/proc/sys"],
                "rootfsPropagation": "rprivate",
                "sysctl": { "net.ipv4.ip_forward": "1" }
              }
            }
            """;

        var spec = JsonSerializer.Deserialize(config, OciJsonContext.Default.RuntimeSpec)!;

        Assert.Equal("1.0.2", spec.OciVersion);
        Assert.Equal([3u, 4u], spec.Process!.User.AdditionalGids!);
        Assert.True(spec.Process.NoNewPrivileges);
        Assert.Equal(100, spec.Process.OomScoreAdj);
        Assert.Equal(512UL, spec.Process.Rlimits![0].Soft);
        Assert.True(spec.Root!.Readonly);
        Assert.Equal("/run/netns/x", spec.Linux!.Namespaces![1].Path);
        Assert.Equal(["/proc/kcore"], spec.Linux.MaskedPaths!);
        Assert.Equal("rprivate", spec.Linux.RootfsPropagation);
        Assert.Equal("1", spec.Linux.Sysctl!["net.ipv4.ip_forward"]);
    }

    [Fact]
    public void Deserialize_IdMappingsWithSpecNames_ReadsContainerIDAndHostID()
    {
        const string config = """
            { "linux": { "uidMappings": [{ "containerID": 5, "hostID": 1000, "size": 1 }] } }
            """;

        var mapping = JsonSerializer.Deserialize(config, OciJsonContext.Default.RuntimeSpec)!.Linux!.UidMappings![0];

        Assert.Equal(5u, mapping.ContainerId);
        Assert.Equal(1000u, mapping.HostId);
        Assert.Equal(1u, mapping.Size);
    }
}
