using System.Globalization;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// Descriptors the runtime's caller left open without close-on-exec (a shell's saved
/// redirections, a test host's pipes) are inherited by the init through posix_spawn; none
/// may reach the container's process, so every one from 3 up closes at execve (runc's
/// CloseExecFrom). The init's own descriptors are close-on-exec already.
/// </summary>
internal static class InheritedDescriptors
{
    public static void CloseOnExecFrom(int first)
    {
        if (LibC.close_range((uint)first, uint.MaxValue, LibC.CLOSE_RANGE_CLOEXEC) == 0)
        {
            return;
        }
        // Kernels before 5.11: one fcntl per open descriptor.
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd >= first)
            {
                LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC);
            }
        }
    }
}
