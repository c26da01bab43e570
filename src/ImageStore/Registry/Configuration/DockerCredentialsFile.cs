using System.Text.Json;
using CriOci.Core;

namespace CriOci.ImageStore.Registry.Configuration;

/// <summary>
/// Credentials from a Docker config.json (docker/cli config/configfile), the format kubelet's
/// /var/lib/kubelet/config.json and `docker login` write: {"auths": {"host[:port]": {"auth":
/// base64("user:password")} | {"username", "password"} | {"identitytoken"} | {"registrytoken"}}}.
/// Keys may be URLs ("https://index.docker.io/v1/"); only their host[:port] counts. The legacy
/// .dockercfg shape (the auths map at top level) is read too. credsStore and credHelpers run
/// external programs and are not supported. Read at every pull, so `docker login` needs no restart.
/// </summary>
internal sealed class DockerCredentialsFile(string? path)
{
    private static readonly string[] DockerHubAliases =
        ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

    /// <summary>The credentials for <paramref name="host"/> ("quay.io", "127.0.0.1:5000"), or null.</summary>
    public RegistryCredentials? Find(string host)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidArgumentException($"credentials file {path} is not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnavailableException($"credentials file {path} is unreadable: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidArgumentException($"credentials file {path} is not a JSON object");
            }
            var auths = document.RootElement.TryGetProperty("auths", out var section) && section.ValueKind == JsonValueKind.Object
                ? section
                : document.RootElement;
            var wanted = Normalize(host);
            foreach (var entry in auths.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Object && Normalize(entry.Name) == wanted)
                {
                    return Read(entry.Value);
                }
            }
            return null;
        }
    }

    private static RegistryCredentials? Read(JsonElement entry)
    {
        var credentials = new RegistryCredentials(
            Username: String(entry, "username"),
            Password: String(entry, "password"),
            Auth: String(entry, "auth"),
            IdentityToken: String(entry, "identitytoken"),
            RegistryToken: String(entry, "registrytoken"));
        return credentials is { Username: null, Auth: null, IdentityToken: null, RegistryToken: null } ? null : credentials;
    }

    private static string? String(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    /// <summary>"https://index.docker.io/v1/" and "docker.io" are one registry; so are "HOST:PORT/path" and "HOST:PORT".</summary>
    internal static string Normalize(string key)
    {
        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }
        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }
        host = host.ToLowerInvariant();
        return DockerHubAliases.Contains(host, StringComparer.Ordinal) ? "docker.io" : host;
    }
}
