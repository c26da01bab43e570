using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CriOci.TestSupport;

/// <summary>The busybox image under one tag for two platforms: an OCI index over linux/amd64 and linux/arm64 manifests.</summary>
/// <param name="Reference">"host/busybox:multi".</param>
/// <param name="Amd64ConfigDigest">The image ID a linux/amd64 pull must give.</param>
/// <param name="Arm64ConfigDigest">The image ID a linux/arm64 pull must give (same layers, config says arm64).</param>
public sealed record MultiPlatformImage(
    string Reference,
    string IndexDigest,
    string Amd64ManifestDigest,
    string Amd64ConfigDigest,
    string Arm64ManifestDigest,
    string Arm64ConfigDigest);

/// <summary>
/// Writes to an anonymous registry over the distribution API (monolithic blob upload, manifest
/// PUT), for images skopeo cannot push from a layout: indexes made by the tests.
/// </summary>
public static class RegistryApi
{
    public const string OciIndexMediaType = "application/vnd.oci.image.index.v1+json";

    /// <summary>
    /// Turns <paramref name="amd64"/> (an OCI image in the registry) into a two-platform index
    /// tagged <paramref name="tag"/>: the arm64 entry shares the layers and has a config that
    /// says arm64, so only the chosen image ID tells which one a pull took.
    /// </summary>
    public static async Task<MultiPlatformImage> PushTwoPlatformIndexAsync(PushedImage amd64, string tag, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{amd64.Registry}/v2/{amd64.Repository}/"), Timeout = TimeSpan.FromMinutes(1) };
        var manifestBytes = await GetAsync(http, $"manifests/{amd64.ManifestDigest}", amd64.ManifestMediaType, cancellationToken).ConfigureAwait(false);
        var manifest = JsonNode.Parse(manifestBytes)!.AsObject();
        var configDigest = manifest["config"]!["digest"]!.GetValue<string>();
        var config = JsonNode.Parse(await GetAsync(http, $"blobs/{configDigest}", "*/*", cancellationToken).ConfigureAwait(false))!.AsObject();

        config["architecture"] = "arm64";
        var armConfig = Encoding.UTF8.GetBytes(config.ToJsonString());
        var armConfigDigest = await UploadBlobAsync(http, armConfig, cancellationToken).ConfigureAwait(false);
        var armManifest = manifest.DeepClone().AsObject();
        armManifest["config"]!["digest"] = armConfigDigest;
        armManifest["config"]!["size"] = armConfig.Length;
        var armManifestBytes = Encoding.UTF8.GetBytes(armManifest.ToJsonString());
        var armManifestDigest = await PutManifestAsync(http, null, amd64.ManifestMediaType, armManifestBytes, cancellationToken).ConfigureAwait(false);

        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciIndexMediaType,
            ["manifests"] = new JsonArray(
                Descriptor(amd64.ManifestMediaType, armManifestDigest, armManifestBytes.Length, "arm64"),
                Descriptor(amd64.ManifestMediaType, amd64.ManifestDigest, manifestBytes.Length, "amd64")),
        };
        var indexDigest = await PutManifestAsync(http, tag, OciIndexMediaType, Encoding.UTF8.GetBytes(index.ToJsonString()), cancellationToken).ConfigureAwait(false);
        return new MultiPlatformImage(
            $"{amd64.Registry}/{amd64.Repository}:{tag}", indexDigest, amd64.ManifestDigest, configDigest, armManifestDigest, armConfigDigest);
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size, string architecture) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = digest,
        ["size"] = size,
        ["platform"] = new JsonObject { ["architecture"] = architecture, ["os"] = "linux" },
    };

    private static async Task<byte[]> GetAsync(HttpClient http, string path, string accept, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST then PUT with ?digest= (distribution spec "monolithic upload"); returns the digest.</summary>
    public static async Task<string> UploadBlobAsync(HttpClient http, byte[] content, CancellationToken cancellationToken)
    {
        var digest = Sha256(content);
        using var start = await http.PostAsync("blobs/uploads/", null, cancellationToken).ConfigureAwait(false);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location ?? throw new InvalidOperationException("the registry sent no upload location");
        var upload = new UriBuilder(location.IsAbsoluteUri ? location : new Uri(http.BaseAddress!, location));
        upload.Query = (upload.Query.Length > 1 ? upload.Query[1..] + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync(upload.Uri, body, cancellationToken).ConfigureAwait(false);
        put.EnsureSuccessStatusCode();
        return digest;
    }

    /// <summary>PUT under <paramref name="tag"/>, or under its own digest when null; returns the digest.</summary>
    public static async Task<string> PutManifestAsync(HttpClient http, string? tag, string mediaType, byte[] content, CancellationToken cancellationToken)
    {
        var digest = Sha256(content);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await http.PutAsync($"manifests/{tag ?? digest}", body, cancellationToken).ConfigureAwait(false);
        if (!put.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT manifest {tag ?? digest}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }
        return digest;
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
