using System.Text.Json;
using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Decides what a fetched manifest is. The Content-Type wins when it is one we asked for;
/// otherwise (registries that answer "application/json" or nothing) the document's own
/// mediaType and shape decide, as containerd's remotes/docker resolver does.
/// </summary>
internal static class ManifestKind
{
    public static string Detect(string? contentType, ReadOnlySpan<byte> content, string reference)
    {
        if (contentType is not null && MediaTypes.IsSchema1(contentType))
        {
            throw Schema1(reference);
        }
        if (contentType is not null && (MediaTypes.IsIndex(contentType) || MediaTypes.IsManifest(contentType)))
        {
            return contentType;
        }
        ManifestProbe? probe;
        try
        {
            probe = JsonSerializer.Deserialize(content, RegistryJsonContext.Default.ManifestProbe);
        }
        catch (JsonException e)
        {
            throw new UnavailableException($"manifest of {reference} is not valid JSON: {e.Message}", e);
        }
        if (probe is null)
        {
            throw new UnavailableException($"manifest of {reference} is empty");
        }
        if (probe.SchemaVersion == 1)
        {
            throw Schema1(reference);
        }
        if (probe.MediaType is { } declared && (MediaTypes.IsIndex(declared) || MediaTypes.IsManifest(declared)))
        {
            return declared;
        }
        if (probe.Manifests is not null)
        {
            return MediaTypes.OciIndex;
        }
        if (probe.Layers is not null)
        {
            return MediaTypes.OciManifest;
        }
        throw new FailedPreconditionException(
            $"{reference} is not a container image (manifest media type \"{probe.MediaType ?? contentType ?? "none"}\")");
    }

    private static FailedPreconditionException Schema1(string reference) =>
        new($"{reference} has a Docker schema 1 manifest, which is deprecated and not supported; "
            + "push the image again with a current client to get a schema 2 or OCI manifest");
}
