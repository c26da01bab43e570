using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>xattr(7) calls on the link itself (the l* variants), for PAX xattrs and overlay opaque markers.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "lsetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial nint lgetxattr(string path, string name, byte* value, nuint size);
}
