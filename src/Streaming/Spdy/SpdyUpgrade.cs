using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// The HTTP side of a SPDY session, as Kubernetes' httpstream.Handshake and
/// spdy.ResponseUpgrader do it: pick the first X-Stream-Protocol-Version of the client that the
/// server supports (none: 403 with X-Accepted-Stream-Protocol-Versions), check the upgrade
/// headers (missing: 400), then 101 Switching Protocols to SPDY/3.1.
/// </summary>
internal static class SpdyUpgrade
{
    public const string ProtocolVersionHeader = "X-Stream-Protocol-Version";
    public const string AcceptedProtocolVersionsHeader = "X-Accepted-Stream-Protocol-Versions";
    public const string UpgradeProtocol = "SPDY/3.1";

    /// <summary>The negotiated subprotocol and the raw connection; null after an error response was written.</summary>
    public static async Task<(string Protocol, Stream Transport)?> TryUpgradeAsync(HttpContext context, IReadOnlyList<string> serverProtocols, ILogger logger)
    {
        var clientProtocols = context.Request.Headers[ProtocolVersionHeader]
            .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        if (clientProtocols.Count == 0)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"unable to upgrade: {ProtocolVersionHeader} is required", logger);
            return null;
        }
        var protocol = clientProtocols.FirstOrDefault(serverProtocols.Contains);
        if (protocol is null)
        {
            foreach (var supported in serverProtocols)
            {
                context.Response.Headers.Append(AcceptedProtocolVersionsHeader, supported);
            }
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(' ', clientProtocols)}], server accepts [{string.Join(' ', serverProtocols)}]", logger);
            return null;
        }
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var connection = context.Request.Headers.Connection.ToString();
        var upgradeHeader = context.Request.Headers.Upgrade.ToString();
        if (upgrade is not { IsUpgradableRequest: true }
            || !connection.Contains("upgrade", StringComparison.OrdinalIgnoreCase)
            || !upgradeHeader.Contains(UpgradeProtocol, StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "unable to upgrade: missing upgrade headers in request", logger);
            return null;
        }
        context.Response.Headers[ProtocolVersionHeader] = protocol;
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = UpgradeProtocol;
        var transport = await upgrade.UpgradeAsync();
        return (protocol, transport);
    }

    private static async Task RefuseAsync(HttpContext context, int statusCode, string message, ILogger logger)
    {
        Log.HandshakeRefused(logger, message);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n");
    }
}
