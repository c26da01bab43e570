using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>A failed system call, with errno, the call and the path, so callers can branch on <see cref="Errno"/>.</summary>
internal sealed class SyscallException(int errno, string call, string path)
    : IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public const int ENOENT = 2;
    public const int EEXIST = 17;

    public int Errno { get; } = errno;
    public string Call { get; } = call;
    public string Path { get; } = path;
}
