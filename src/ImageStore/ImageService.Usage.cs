using CriOci.Core;

namespace CriOci.ImageStore;

internal sealed partial class ImageService
{
    /// <summary>Walks the root for CRI ImageFsInfo: blobs, unpacked layers and records.</summary>
    public ImageFilesystemUsage GetFilesystemUsage()
    {
        var usage = DirectoryUsage.Measure(rootDirectory);
        return new ImageFilesystemUsage(rootDirectory, usage.UsedBytes, usage.InodesUsed);
    }
}
