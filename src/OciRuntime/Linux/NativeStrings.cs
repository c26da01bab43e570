using System.Runtime.InteropServices;
using System.Text;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings (argv, envp) in unmanaged memory,
/// built before any call that must not allocate.
/// </summary>
internal sealed unsafe class NativeStringArray : IDisposable
{
    private readonly byte** _array;
    private readonly int _count;

    public NativeStringArray(IReadOnlyList<string> values)
    {
        _count = values.Count;
        _array = (byte**)NativeMemory.AllocZeroed((nuint)(_count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < _count; i++)
        {
            _array[i] = NativeString.Allocate(values[i]);
        }
    }

    public byte** Pointer => _array;

    public void Dispose()
    {
        for (var i = 0; i < _count; i++)
        {
            NativeMemory.Free(_array[i]);
        }
        NativeMemory.Free(_array);
    }
}

internal static unsafe class NativeString
{
    public static byte* Allocate(string value)
    {
        if (value.Contains('\0'))
        {
            throw new ArgumentException($"string contains a NUL byte: {value.Replace("\0", "\\0")}");
        }
        var length = Encoding.UTF8.GetByteCount(value);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(value, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }
}
