using System.Net;
using System.Text;
using System.Text.Json;
using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Turns a registry's error answer into a domain exception, keeping the registry's own words
/// (distribution spec, "Error Codes"): unknown manifests, repositories and blobs are
/// NotFound; everything else is Unavailable with the HTTP status.
/// </summary>
internal static class RegistryErrors
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    public static async Task<Exception> FromResponseAsync(
        HttpResponseMessage response, string registryHost, string what, CancellationToken cancellationToken)
    {
        using (response)
        {
            var body = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
            var (code, message) = ParseErrorBody(body);
            var detail = message ?? (body.Length > 0 ? body : response.ReasonPhrase ?? "no details");
            if (response.StatusCode == HttpStatusCode.NotFound
                || code is "MANIFEST_UNKNOWN" or "NAME_UNKNOWN" or "BLOB_UNKNOWN")
            {
                return new NotFoundException($"{what} not found in registry {registryHost}: {detail}");
            }
            var status = $"{(int)response.StatusCode} {response.StatusCode}";
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                return new UnavailableException(
                    $"registry {registryHost} refused access to {what} ({status}): {detail}; check the pull credentials");
            }
            return new UnavailableException($"registry {registryHost} answered {status} for {what}: {detail}");
        }
    }

    internal static (string? Code, string? Message) ParseErrorBody(string body)
    {
        if (body.Length == 0 || body[0] != '{')
        {
            return (null, null);
        }
        try
        {
            var parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.RegistryErrorBody);
            var first = parsed?.Errors?.FirstOrDefault();
            return (first?.Code, first?.Message is { Length: > 0 } message ? $"{first.Code}: {message}" : first?.Code);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int read;
            while (total < buffer.Length
                && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }
            return Encoding.UTF8.GetString(buffer, 0, total).Trim();
        }
    }
}
