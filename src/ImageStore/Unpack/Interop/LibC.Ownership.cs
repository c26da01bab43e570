using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>chown(2) family. Only lchown: a layer entry's owner is set on the entry itself, never through a link.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int lchown(string path, uint owner, uint group);
}
