using System.Runtime.InteropServices;

namespace CriOci.Streaming.Spdy.Interop;

/// <summary>
/// The system zlib (zlib.h), for what System.IO.Compression lacks: preset dictionaries, which
/// SPDY/3 header compression requires. Debian's zlib1g provides libz.so.1 on every node.
/// </summary>
internal static unsafe partial class ZLib
{
    private const string Library = "libz.so.1";

    // Only the major version is checked by zlib's *Init_ functions.
    private const string Version = "1.2.11";

    public const int Z_OK = 0;
    public const int Z_STREAM_END = 1;
    public const int Z_NEED_DICT = 2;
    public const int Z_BUF_ERROR = -5;
    public const int Z_SYNC_FLUSH = 2;
    public const int Z_BEST_COMPRESSION = 9;

    /// <summary>z_stream for LP64 (uInt 32-bit, uLong and pointers 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public nint Msg;
        public nint State;
        public nint ZAlloc;
        public nint ZFree;
        public nint Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    [LibraryImport(Library, EntryPoint = "deflateInit_", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int deflateInit_(ZStream* stream, int level, string version, int streamSize);

    [LibraryImport(Library, EntryPoint = "inflateInit_", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int inflateInit_(ZStream* stream, string version, int streamSize);

    [LibraryImport(Library)]
    public static partial int deflateSetDictionary(ZStream* stream, byte* dictionary, uint length);

    [LibraryImport(Library)]
    public static partial int inflateSetDictionary(ZStream* stream, byte* dictionary, uint length);

    [LibraryImport(Library)]
    public static partial int deflate(ZStream* stream, int flush);

    [LibraryImport(Library)]
    public static partial int inflate(ZStream* stream, int flush);

    [LibraryImport(Library)]
    public static partial int deflateEnd(ZStream* stream);

    [LibraryImport(Library)]
    public static partial int inflateEnd(ZStream* stream);

    public static int deflateInit(ZStream* stream, int level) => deflateInit_(stream, level, Version, sizeof(ZStream));

    public static int inflateInit(ZStream* stream) => inflateInit_(stream, Version, sizeof(ZStream));

    public static string ErrorText(ZStream* stream, int result) =>
        stream->Msg != 0 ? $"{Marshal.PtrToStringUTF8(stream->Msg)} ({result})" : $"zlib error {result}";
}
