using System.Net;
using System.Text.Json.Serialization;
using CriOci.CriServer.Telemetry;

namespace CriOci.CriServer.Streaming;

/// <summary>
/// Where the exec/attach/port-forward server listens. kubelet proxies every stream from the API
/// server to the URL the runtime returns, on the same node, so loopback is the right default
/// (containerd and CRI-O default to it too); port 0 lets the kernel pick a free port.
/// </summary>
/// <param name="Address">"ip:port"; empty turns the server off (Exec, Attach, PortForward then answer Unavailable).</param>
/// <param name="TlsCertificateFile">PEM certificate for HTTPS; with <paramref name="TlsKeyFile"/>, else plain HTTP.</param>
/// <param name="TlsKeyFile">PEM private key of the certificate.</param>
internal sealed record StreamingListenerOptions(string Address = StreamingListenerOptions.DefaultAddress, string? TlsCertificateFile = null, string? TlsKeyFile = null)
{
    public const string DefaultAddress = "127.0.0.1:0";

    public static StreamingListenerOptions Default { get; } = new();

    [JsonIgnore]
    public bool Enabled => Address.Length > 0;

    [JsonIgnore]
    public bool UsesTls => TlsCertificateFile is not null;

    /// <summary>A method, not a property: the options are serialised into Status' verbose info.</summary>
    public IPEndPoint GetEndPoint() => TelemetryOptions.ParseEndPoint(Address);

    /// <summary>Checks what the flags, environment and file said; the message names the setting.</summary>
    public static StreamingListenerOptions Validate(string address, string? certificate, string? key, string source)
    {
        if (address.Length > 0)
        {
            try
            {
                TelemetryOptions.ParseEndPoint(address);
            }
            catch (FormatException ex)
            {
                throw new DaemonConfigException($"{source} address: {ex.Message}", ex);
            }
        }
        if ((certificate is null) != (key is null))
        {
            throw new DaemonConfigException($"{source}: a TLS certificate needs its key and a key its certificate");
        }
        return new StreamingListenerOptions(address, certificate, key);
    }
}
