using System.Text;
using System.Text.Json;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// The remotecommand subprotocol versions (k8s.io/apimachinery/pkg/util/remotecommand) and what
/// each one changes: v2 adds separate stream setup, v3 the resize stream, v4 the Status JSON on
/// the error stream, v5 (WebSocket only) the close signal for a single channel.
/// </summary>
internal static class RemoteCommandProtocol
{
    public const string V1 = "channel.k8s.io";
    public const string V2 = "v2.channel.k8s.io";
    public const string V3 = "v3.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";
    public const string V5 = "v5.channel.k8s.io";
    public const string V1Base64 = "base64.channel.k8s.io";
    public const string V4Base64 = "v4.base64.channel.k8s.io";

    /// <summary>kubelet's preference order over SPDY (v5 behaves as v4 there).</summary>
    public static readonly string[] Spdy = [V5, V4, V3, V2, V1];

    /// <summary>kubelet's WebSocket subprotocols for exec and attach.</summary>
    public static readonly string[] WebSocket = [V5, V4, V4Base64, V1, V1Base64];

    public static bool SupportsResize(string protocol) => protocol is V3 or V4 or V5 or V4Base64;

    public static bool WritesStatusJson(string protocol) => protocol is V4 or V5 or V4Base64;

    /// <summary>
    /// What goes on the error stream: the Status JSON (v4+), or before v4 only a failure's
    /// message as plain text; null when there is nothing to write.
    /// </summary>
    public static byte[]? EncodeStatus(string protocol, KubeStatus status)
    {
        if (WritesStatusJson(protocol))
        {
            return JsonSerializer.SerializeToUtf8Bytes(status, StreamingJsonContext.Default.KubeStatus);
        }
        return status.IsSuccess ? null : Encoding.UTF8.GetBytes(status.Message ?? status.Status);
    }
}
