using CriOci.Core;
using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>
    /// kubelet's image garbage collection and eviction read this. image_filesystems: the image
    /// store (blobs, unpacked layers, records). container_filesystems: the containers' writable
    /// layers, the overlay upper and work dirs in the sandbox manager's container directories,
    /// as containerd 2 reports its snapshotter's active snapshots there.
    /// </summary>
    public override async Task<ImageFsInfoResponse> ImageFsInfo(ImageFsInfoRequest request, ServerCallContext context)
    {
        // Both walks touch every inode of their trees: keep them off the gRPC thread.
        var (imageUsage, containerUsage) = await Task.Run(
            () => (images.GetFilesystemUsage(), DirectoryUsage.Measure(options.Sandbox.ContainersDirectory)),
            context.CancellationToken);
        // api.proto: "Timestamp in nanoseconds at which the information were collected. Must be > 0."
        var timestamp = (timeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
        var response = new ImageFsInfoResponse();
        response.ImageFilesystems.Add(Usage(timestamp, imageUsage.Mountpoint, imageUsage.UsedBytes, imageUsage.InodesUsed));
        response.ContainerFilesystems.Add(Usage(timestamp, options.Sandbox.ContainersDirectory, containerUsage.UsedBytes, containerUsage.InodesUsed));
        return response;
    }

    private static FilesystemUsage Usage(long timestamp, string mountpoint, long usedBytes, long inodesUsed) => new()
    {
        Timestamp = timestamp,
        FsId = new FilesystemIdentifier { Mountpoint = mountpoint },
        UsedBytes = new UInt64Value { Value = (ulong)Math.Max(usedBytes, 0) },
        InodesUsed = new UInt64Value { Value = (ulong)Math.Max(inodesUsed, 0) },
    };
}
