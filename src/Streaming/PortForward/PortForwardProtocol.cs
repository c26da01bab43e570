using System.Globalization;

namespace CriOci.Streaming.PortForward;

/// <summary>Names and messages of kubelet's port-forward protocols (pkg/kubelet/cri/streaming/portforward).</summary>
internal static class PortForwardProtocol
{
    /// <summary>The SPDY subprotocol.</summary>
    public const string SpdyV1 = "portforward.k8s.io";

    /// <summary>The WebSocket subprotocols (kubelet's websocket.go also allows none).</summary>
    public const string WebSocketV4 = "v4.channel.k8s.io";
    public const string WebSocketV4Base64 = "v4.base64.channel.k8s.io";

    public const string PortHeader = "port";
    public const string RequestIdHeader = "requestID";

    public static string ForwardingError(int port, string podSandboxId, string reason) =>
        $"error forwarding port {port} to pod {podSandboxId}, uid : {reason}";

    /// <summary>A port as kubelet accepts it: decimal, 1-65535.</summary>
    public static bool TryParsePort(string? text, out int port)
    {
        port = 0;
        return ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            && (port = parsed) > 0;
    }
}
