using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>
    /// kubelet's image garbage collection reads this. container_filesystems stays empty: the
    /// writable layers are not split onto another filesystem, and kubelet then takes the image
    /// filesystem for the containers too.
    /// </summary>
    public override Task<ImageFsInfoResponse> ImageFsInfo(ImageFsInfoRequest request, ServerCallContext context)
    {
        var usage = images.GetFilesystemUsage();
        var response = new ImageFsInfoResponse();
        response.ImageFilesystems.Add(new FilesystemUsage
        {
            // api.proto: "Timestamp in nanoseconds at which the information were collected. Must be > 0."
            Timestamp = (timeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick,
            FsId = new FilesystemIdentifier { Mountpoint = usage.Mountpoint },
            UsedBytes = new UInt64Value { Value = (ulong)Math.Max(usage.UsedBytes, 0) },
            InodesUsed = new UInt64Value { Value = (ulong)Math.Max(usage.InodesUsed, 0) },
        });
        return Task.FromResult(response);
    }
}
