using System.Text.Json.Nodes;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The built-in network's bridge step (what the bridge plugin with host-local IPAM does) done
/// in-process. Fakeable, so CniInvoker's chaining is tested without touching the host's links.
/// </summary>
internal interface INativeBridge
{
    /// <summary>
    /// Attaches the pod and returns the CNI result the bridge plugin would print (the prevResult
    /// portmap expects); throws with nothing left behind when any step fails.
    /// </summary>
    Task<JsonObject> AddAsync(NativeBridgeConfig config, CniCacheEntry entry, string cniVersion, CancellationToken cancellationToken);

    /// <summary>Detaches the pod: its interface (if the namespace and it are still there) and its addresses. Idempotent.</summary>
    Task DeleteAsync(NativeBridgeConfig config, CniCacheEntry entry, CancellationToken cancellationToken);
}
