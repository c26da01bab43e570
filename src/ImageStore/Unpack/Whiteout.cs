namespace CriOci.ImageStore.Unpack;

/// <summary>
/// OCI whiteouts (image-spec layer.md, "Whiteouts") and how overlayfs spells them
/// (kernel Documentation/filesystems/overlayfs.rst): ".wh.NAME" deletes NAME from lower
/// layers and becomes a 0/0 character device; ".wh..wh..opq" hides everything below its
/// directory and becomes the xattr trusted.overlay.opaque="y" on that directory.
/// </summary>
internal static class Whiteout
{
    public const string Prefix = ".wh.";
    public const string MetaPrefix = ".wh..wh.";
    public const string OpaqueMarker = ".wh..wh..opq";
    public const string OpaqueXattr = "trusted.overlay.opaque";
    public static ReadOnlySpan<byte> OpaqueValue => "y"u8;

    /// <summary>overlayfs treats its own xattrs as metadata; a layer must not smuggle them in.</summary>
    public const string OverlayXattrPrefix = "trusted.overlay.";
}
