namespace CriOci.OciRuntime.Linux;

/// <summary>A failed system call, with the errno, the call and the path or object it acted on.</summary>
public sealed class SyscallException(int errno, string call, string? target)
    : Exception(target is null
        ? $"{call}: {CriOci.OciRuntime.Linux.Errno.Describe(errno)}"
        : $"{call} {target}: {CriOci.OciRuntime.Linux.Errno.Describe(errno)}")
{
    public int Errno { get; } = errno;
    public string Call { get; } = call;
    public string? Target { get; } = target;
}
