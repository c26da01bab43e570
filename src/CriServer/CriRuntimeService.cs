using CriOci.ImageStore;
using CriOci.PodSandbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>
/// runtime.v1.RuntimeService. One file per RPC (CriRuntimeService.&lt;Rpc&gt;.cs); each validates
/// its request and delegates to <see cref="ISandboxManager"/>. RPCs without a file are still
/// answered Unimplemented by the generated base class: never a fake success.
/// </summary>
internal sealed partial class CriRuntimeService(
    ISandboxManager sandboxes,
    IImageService images,
    DaemonOptions options,
    IHostApplicationLifetime lifetime,
    Streaming.StreamingGateway streaming,
    ILogger<CriRuntimeService> logger) : Cri.V1.RuntimeService.RuntimeServiceBase
{
}
