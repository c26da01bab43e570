using CriOci.ImageStore;
using CriOci.PodSandbox;

namespace CriOci.CriServer;

/// <summary>
/// runtime.v1.ImageService. One file per RPC (CriImageService.&lt;Rpc&gt;.cs), delegating to
/// <see cref="IImageService"/>; the sandbox manager is asked only whether an image is in use,
/// and the daemon's options say where the containers' writable layers live.
/// </summary>
internal sealed partial class CriImageService(
    IImageService images,
    ISandboxManager sandboxes,
    DaemonOptions options,
    TimeProvider timeProvider) : Cri.V1.ImageService.ImageServiceBase
{
}
