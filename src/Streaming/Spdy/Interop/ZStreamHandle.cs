using System.Runtime.InteropServices;

namespace CriOci.Streaming.Spdy.Interop;

/// <summary>
/// A z_stream in native memory. zlib keeps a pointer back to it (state->strm) and checks it on
/// every call, so it must never move: it lives outside the managed heap, and its release calls
/// deflateEnd/inflateEnd exactly once.
/// </summary>
internal sealed unsafe class ZStreamHandle : SafeHandle
{
    private readonly bool _deflate;

    private ZStreamHandle(bool deflate) : base(0, ownsHandle: true)
    {
        _deflate = deflate;
        SetHandle((nint)NativeMemory.AllocZeroed((nuint)sizeof(ZLib.ZStream)));
    }

    public override bool IsInvalid => handle == 0;

    public ZLib.ZStream* Stream => (ZLib.ZStream*)handle;

    public static ZStreamHandle CreateDeflater(int level)
    {
        var stream = new ZStreamHandle(deflate: true);
        Check(stream, ZLib.deflateInit(stream.Stream, level), "deflateInit");
        return stream;
    }

    public static ZStreamHandle CreateInflater()
    {
        var stream = new ZStreamHandle(deflate: false);
        Check(stream, ZLib.inflateInit(stream.Stream), "inflateInit");
        return stream;
    }

    protected override bool ReleaseHandle()
    {
        var stream = (ZLib.ZStream*)handle;
        if (stream->State != 0)
        {
            _ = _deflate ? ZLib.deflateEnd(stream) : ZLib.inflateEnd(stream);
        }
        NativeMemory.Free(stream);
        return true;
    }

    private static void Check(ZStreamHandle stream, int result, string call)
    {
        if (result != ZLib.Z_OK)
        {
            stream.Dispose();
            throw new InvalidOperationException($"{call} failed: zlib error {result}");
        }
    }
}
