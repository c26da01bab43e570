namespace CriOci.ImageStore.Metadata;

/// <summary>
/// What is kept on disk for one image: its record, and every blob it holds in the content
/// store (index, manifest, config, layers), so removal knows what may be collected.
/// </summary>
/// <param name="SchemaVersion">Version of this file's layout, for future migrations.</param>
internal sealed record StoredImage(int SchemaVersion, ImageRecord Image, IReadOnlyList<string> Blobs)
{
    public const int CurrentSchemaVersion = 1;
}
