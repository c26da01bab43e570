using System.Text;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Security;

/// <summary>
/// Asks the kernel to confine the process this thread's next execve starts: the AppArmor
/// profile to change to (libapparmor's aa_change_onexec, "exec NAME") and the SELinux label
/// (setexeccon). Both are per-thread attributes under /proc, written by the thread that calls
/// execve; they take effect at that execve, so the runtime's own setup is not confined by them.
/// The /proc root is a parameter so a test can see exactly what would be written where.
/// </summary>
internal sealed class ExecSecurityAttributes(string procRoot, HostSecurityModules host)
{
    /// <summary>
    /// For a process about to be set up here: the host is read now, before pivot_root or setns
    /// hide securityfs and selinuxfs, and only if the process asks for a profile or label.
    /// </summary>
    public static ExecSecurityAttributes ForProcess(ProcessSpec process) =>
        new("/proc", HostSecurityModules.Wanted(process) ? HostSecurityModules.Detect() : HostSecurityModules.None);

    /// <summary>Writes the profile and label <paramref name="process"/> asks for; a host without the module is refused first.</summary>
    public void Apply(ProcessSpec process)
    {
        host.CheckProcess(process);
        if (process.ApparmorProfile is { Length: > 0 } profile)
        {
            Write(AppArmorExecPath(), "exec " + profile, "process.apparmorProfile");
        }
        if (process.SelinuxLabel is { Length: > 0 } label)
        {
            Write(Path.Combine(procRoot, "thread-self/attr/exec"), label, "process.selinuxLabel");
        }
    }

    /// <summary>
    /// Since Linux 5.1 each module has its own directory (attr/apparmor/exec); older kernels
    /// only have the shared attr/exec. The fallback names /proc/self: this code runs on the
    /// process's main thread, the one that calls execve, so self and thread-self are the same task.
    /// </summary>
    public string AppArmorExecPath()
    {
        var perModule = Path.Combine(procRoot, "thread-self/attr/apparmor/exec");
        return File.Exists(perModule) ? perModule : Path.Combine(procRoot, "self/attr/exec");
    }

    /// <summary>One write(2) of the whole value: the kernel parses each write as one request.</summary>
    private static unsafe void Write(string path, string value, string field)
    {
        var fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new InitException($"{field}: cannot apply {value}: open {path}: {Errno.Describe(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
        }
        try
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            nint written;
            fixed (byte* buffer = bytes)
            {
                written = LibC.write(fd, buffer, (nuint)bytes.Length);
            }
            if (written < 0)
            {
                throw new InitException($"{field}: cannot apply {value}: write {path}: {Errno.Describe(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
            }
            if (written != bytes.Length)
            {
                throw new InitException($"{field}: cannot apply {value}: short write to {path}");
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
