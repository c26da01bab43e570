using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux;

/// <summary>errno values the runtime branches on, and the one place results are checked.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;
    public const int EXDEV = 18;

    /// <summary>Throws <see cref="SyscallException"/> when a libc call returned -1.</summary>
    public static int Check(int result, string call, string? target = null)
    {
        if (result < 0)
        {
            throw new SyscallException(Marshal.GetLastPInvokeError(), call, target);
        }
        return result;
    }

    public static long Check(long result, string call, string? target = null)
    {
        if (result < 0)
        {
            throw new SyscallException(Marshal.GetLastPInvokeError(), call, target);
        }
        return result;
    }

    /// <summary>Retries a call interrupted by a signal, as every blocking call must.</summary>
    public static int RetryOnInterrupt(Func<int> call, string name, string? target = null)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                return result;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw new SyscallException(errno, name, target);
            }
        }
    }

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
