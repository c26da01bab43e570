using System.Reflection;
using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// "version" is the version of the kubelet runtime API this answer follows; "0.1.0" is what
    /// kubelet expects and what containerd and CRI-O report (cri-api api.proto VersionResponse).
    /// </summary>
    private const string KubeletRuntimeApiVersion = "0.1.0";

    internal static string DaemonVersion { get; } =
        typeof(CriRuntimeService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    public override Task<VersionResponse> Version(VersionRequest request, ServerCallContext context) =>
        Task.FromResult(new VersionResponse
        {
            Version = KubeletRuntimeApiVersion,
            RuntimeName = "crioci",
            RuntimeVersion = DaemonVersion,
            RuntimeApiVersion = "v1",
        });
}
