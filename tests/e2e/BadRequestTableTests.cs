using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// Sends every row of <see cref="BadRequestTable"/> to a real daemon: each gets its status code
/// and a message naming the field (or the unknown ID), and the daemon keeps serving afterwards.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class BadRequestTableTests(BadRequestDaemon fixture, RegistryFixture registry) : IClassFixture<BadRequestDaemon>
{
    /// <summary>RPCs that answer Unimplemented today; see the table's summary for why they have no rows.</summary>
    private static readonly string[] NotInTable =
    [
        "StreamPodSandboxes", "StreamContainers", "StreamContainerStats",
        "StreamPodSandboxStats", "CheckpointContainer", "GetContainerEvents",
        "StreamPodSandboxMetrics", "StreamImages",
    ];

    public static TheoryData<string> RowNames => new(BadRequestTable.Rows.Select(r => r.Name));

    private DaemonProcess Daemon => fixture.Daemon;

    [Theory]
    [MemberData(nameof(RowNames))]
    public async Task BadRequest_Answered_WithItsStatusCodeNamingTheField(string rowName)
    {
        var row = BadRequestTable.Rows.Single(r => r.Name == rowName);

        var failure = await SendAsync(row);

        Assert.True(failure is null, failure);
    }

    [Fact]
    public void Table_CoversEveryRpc_ExceptTheUnimplementedOnes()
    {
        var methods = RuntimeService.Descriptor.Methods.Concat(ImageService.Descriptor.Methods).Select(m => m.Name).ToHashSet();
        var covered = BadRequestTable.Rows.Select(r => r.Rpc).ToHashSet();

        Assert.Empty(covered.Except(methods));
        Assert.Empty(covered.Intersect(NotInTable));
        Assert.Empty(methods.Except(covered).Except(NotInTable));
        Assert.Equal(BadRequestTable.Rows.Count, BadRequestTable.Rows.Select(r => r.Name).Distinct().Count());
    }

    [Fact]
    public async Task Daemon_AfterTheWholeTableAtOnce_StillRunsAPodAndAContainer()
    {
        var failures = (await Task.WhenAll(BadRequestTable.Rows.Select(SendAsync))).OfType<string>().ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        var version = await Daemon.Client.Runtime.VersionAsync(new VersionRequest());
        Assert.Equal("crioci", version.RuntimeName);
        var podConfig = CriRequests.Pod("after-bad-requests", Path.Combine(Daemon.BaseDirectory, "logs"));
        var pod = await Daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await Daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("sleeper", registry.BusyboxLatest.Reference, "sleep", "3600"),
            SandboxConfig = podConfig,
        });
        await Daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        var exec = await Daemon.Client.Runtime.ExecSyncAsync(
            new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "echo", "still serving" }, Timeout = 30 });
        Assert.Equal(0, exec.ExitCode);
        Assert.Equal("still serving\n", exec.Stdout.ToStringUtf8());
        await Daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        var left = await Daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        Assert.Empty(left.Items);
    }

    /// <summary>Null when the row got its answer, else what went wrong.</summary>
    private async Task<string?> SendAsync(BadRequest row)
    {
        await fixture.EnsurePulledAsync(registry.BusyboxLatest.Reference);
        var context = new BadRequestContext(Daemon.Client.Runtime, Daemon.Client.Images, registry.BusyboxLatest.Reference,
            Path.Combine(Daemon.BaseDirectory, "logs"));
        StatusCode actual;
        var detail = "";
        try
        {
            await row.Send(context);
            actual = StatusCode.OK;
        }
        catch (RpcException error)
        {
            actual = error.StatusCode;
            detail = error.Status.Detail;
        }
        catch (InvalidOperationException error)
        {
            return $"{row.Name}: {error.Message}";
        }
        if (actual != row.Expected)
        {
            return $"{row.Name}: expected {row.Expected}, got {actual} \"{Shorten(detail)}\"";
        }
        if (row.MessageNames is { } names && !detail.Contains(names, StringComparison.Ordinal))
        {
            return $"{row.Name}: the message does not name \"{Shorten(names)}\": \"{Shorten(detail)}\"";
        }
        return null;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : $"{text[..300]}... ({text.Length} characters)";
}
