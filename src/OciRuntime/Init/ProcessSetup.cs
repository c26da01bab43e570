using System.Globalization;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// The last steps before a container process runs, shared by a container's init and by exec:
/// limits, working directory, user and groups, capabilities, no_new_privs, then execve.
/// Runs on the main thread: capabilities are per thread, and execve keeps the caller's.
/// </summary>
internal static class ProcessSetup
{
    private static readonly Dictionary<string, int> RlimitNumbers = new(StringComparer.Ordinal)
    {
        ["RLIMIT_CPU"] = 0, ["RLIMIT_FSIZE"] = 1, ["RLIMIT_DATA"] = 2, ["RLIMIT_STACK"] = 3,
        ["RLIMIT_CORE"] = 4, ["RLIMIT_RSS"] = 5, ["RLIMIT_NPROC"] = 6, ["RLIMIT_NOFILE"] = 7,
        ["RLIMIT_MEMLOCK"] = 8, ["RLIMIT_AS"] = 9, ["RLIMIT_LOCKS"] = 10, ["RLIMIT_SIGPENDING"] = 11,
        ["RLIMIT_MSGQUEUE"] = 12, ["RLIMIT_NICE"] = 13, ["RLIMIT_RTPRIO"] = 14, ["RLIMIT_RTTIME"] = 15,
    };

    /// <summary>The RLIMIT_* number of a process.rlimits type.</summary>
    public static int RlimitResource(string type) =>
        RlimitNumbers.TryGetValue(type, out var resource) ? resource : throw new InitException($"process.rlimits: unknown type {type}");

    public static void ApplyLimits(ProcessSpec process)
    {
        foreach (var rlimit in process.Rlimits ?? [])
        {
            if (!RlimitNumbers.TryGetValue(rlimit.Type, out var resource))
            {
                throw new InitException($"process.rlimits: unknown type {rlimit.Type}");
            }
            var limit = new LibC.RLimit { Current = rlimit.Soft, Maximum = rlimit.Hard };
            Errno.Check(LibC.prlimit(0, resource, ref limit, 0), "prlimit", rlimit.Type);
        }
        if (process.OomScoreAdj is { } score)
        {
            SetOomScoreAdj(score);
        }
    }

    /// <summary>
    /// Lowering oom_score_adj needs CAP_SYS_RESOURCE, which some hosts withhold even from root.
    /// Kubernetes only uses the value to rank victims, so a container that cannot go lower
    /// keeps the current (higher, so safer for the node) value instead of failing to start.
    /// </summary>
    private static void SetOomScoreAdj(int score)
    {
        try
        {
            File.WriteAllText("/proc/self/oom_score_adj", score.ToString(CultureInfo.InvariantCulture));
        }
        catch (UnauthorizedAccessException)
        {
            var current = int.Parse(File.ReadAllText("/proc/self/oom_score_adj").Trim(), CultureInfo.InvariantCulture);
            if (score > current)
            {
                throw new InitException($"process.oomScoreAdj: cannot set {score} (current {current})");
            }
        }
        catch (IOException exception)
        {
            throw new InitException($"process.oomScoreAdj: cannot set {score}: {exception.Message}", exception);
        }
    }

    public static void ChangeDirectory(ProcessSpec process)
    {
        if (!process.Cwd.StartsWith('/'))
        {
            throw new InitException($"process.cwd must be absolute: {process.Cwd}");
        }
        Errno.Check(LibC.chdir(process.Cwd), "chdir", process.Cwd);
        VerifyCwdInsideRoot(process.Cwd);
    }

    /// <summary>
    /// A cwd such as /proc/self/fd/N follows a descriptor wherever it points, and a descriptor
    /// of the runtime's open at this point (a .NET runtime one, say) may be a host directory
    /// (runc CVE-2024-21626). The kernel's getcwd reports a directory outside this process's
    /// root as unreachable (glibc: ENOENT, or a path not starting with '/'): refuse to run there.
    /// </summary>
    private static unsafe void VerifyCwdInsideRoot(string cwd)
    {
        const int Size = 4096;
        var buffer = stackalloc byte[Size];
        if (LibC.getcwd(buffer, Size) is null)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InitException($"process.cwd {cwd}: the working directory is outside the container's root ({Errno.Describe(errno)})");
        }
        if (buffer[0] != (byte)'/')
        {
            throw new InitException($"process.cwd {cwd}: the working directory is outside the container's root");
        }
    }

    /// <summary>Finds args[0] on the process's PATH, in the current root, as execvp would.</summary>
    public static string ResolveExecutable(ProcessSpec process)
    {
        var name = process.Args is { Count: > 0 } args ? args[0] : throw new InitException("process.args must not be empty");
        if (name.Contains('/'))
        {
            return IsExecutableFile(name) ? name : throw new InitException($"exec: {name}: no such executable file");
        }
        var path = process.Env?.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?["PATH=".Length..] ?? SpecDefaults.DefaultPath;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (IsExecutableFile(candidate))
            {
                return candidate;
            }
        }
        throw new InitException($"exec: \"{name}\": executable file not found in $PATH");
    }

    private static bool IsExecutableFile(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>
    /// Credentials and the seccomp filter, in runc's order: without no_new_privs, loading a
    /// filter needs CAP_SYS_ADMIN, so it goes in before the capabilities are dropped; with it,
    /// the filter goes in last and the setup syscalls need not be in the profile.
    /// </summary>
    public static void ApplyCredentialsAndSeccomp(ProcessSpec process, SeccompSpec? seccomp)
    {
        if (seccomp is not null && !process.NoNewPrivileges)
        {
            Seccomp.SeccompFilter.Load(seccomp);
        }
        ApplyCredentials(process);
        if (seccomp is not null && process.NoNewPrivileges)
        {
            Seccomp.SeccompFilter.Load(seccomp);
        }
    }

    /// <summary>Switches user and groups and sets the five capability sets.</summary>
    public static void ApplyCredentials(ProcessSpec process)
    {
        var caps = process.Capabilities;
        // The host may withhold capabilities even from root (this is seen on hardened nodes);
        // asking for them would fail with EPERM, so every set is limited to what we hold.
        var held = Capabilities.BoundingSet();
        var bounding = Capabilities.Mask(caps?.Bounding) & held;
        var effective = Capabilities.Mask(caps?.Effective) & held;
        var permitted = Capabilities.Mask(caps?.Permitted) & held;
        var inheritable = Capabilities.Mask(caps?.Inheritable) & held;
        var ambient = Capabilities.Mask(caps?.Ambient) & held;

        var lastCap = Capabilities.LastCapability();
        for (var cap = 0; cap <= lastCap; cap++)
        {
            if ((held & (1UL << cap)) != 0 && (bounding & (1UL << cap)) == 0)
            {
                Errno.Check(LibC.prctl(LibC.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0), "prctl PR_CAPBSET_DROP", Capabilities.All.ElementAtOrDefault(cap));
            }
        }

        var user = process.User;
        Errno.Check(LibC.prctl(LibC.PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl PR_SET_KEEPCAPS");
        var groups = (user.AdditionalGids ?? []).ToArray();
        // This thread's credentials only, like the capabilities below: it is the one that execs.
        Errno.Check(LibC.setgroups_this_thread(groups), "setgroups");
        Errno.Check(LibC.setresgid_this_thread(user.Gid), "setresgid", user.Gid.ToString(CultureInfo.InvariantCulture));
        Errno.Check(LibC.setresuid_this_thread(user.Uid), "setresuid", user.Uid.ToString(CultureInfo.InvariantCulture));
        Errno.Check(LibC.prctl(LibC.PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl PR_SET_KEEPCAPS");
        if (user.Umask is { } umask)
        {
            LibC.umask(umask);
        }

        var header = new LibC.CapUserHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
        Span<LibC.CapUserData> data =
        [
            new() { Effective = (uint)effective, Permitted = (uint)permitted, Inheritable = (uint)inheritable },
            new() { Effective = (uint)(effective >> 32), Permitted = (uint)(permitted >> 32), Inheritable = (uint)(inheritable >> 32) },
        ];
        Errno.Check(LibC.capset(ref header, data), "capset");
        Errno.Check(LibC.prctl(LibC.PR_CAP_AMBIENT, LibC.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl PR_CAP_AMBIENT_CLEAR_ALL");
        for (var cap = 0; cap <= lastCap; cap++)
        {
            if ((ambient & (1UL << cap)) != 0)
            {
                Errno.Check(LibC.prctl(LibC.PR_CAP_AMBIENT, LibC.PR_CAP_AMBIENT_RAISE, (nuint)cap, 0, 0), "prctl PR_CAP_AMBIENT_RAISE", Capabilities.All.ElementAtOrDefault(cap));
            }
        }

        if (process.NoNewPrivileges)
        {
            Errno.Check(LibC.prctl(LibC.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl PR_SET_NO_NEW_PRIVS");
        }
    }

    /// <summary>
    /// The .NET runtime of this process ignores SIGPIPE and SIGQUIT, and ignored signals stay
    /// ignored across execve(2): without this the user's process would start with them ignored
    /// (seen in /proc/PID/status SigIgn; `yes | head` would never end on its own). Handled signals
    /// are reset by execve anyway. A seccomp profile without rt_sigaction leaves them as they are.
    /// </summary>
    private static void ResetSignalDispositions()
    {
        const int SIGKILL = 9, SIGSTOP = 19, LastSignal = 64;
        for (var signal = 1; signal <= LastSignal; signal++)
        {
            if (signal is not (SIGKILL or SIGSTOP))
            {
                // glibc refuses its own reserved real-time signals (EINVAL); nothing to do for those.
                LibC.signal(signal, LibC.SIG_DFL);
            }
        }
    }

    /// <summary>Replaces this process; returns only by throwing.</summary>
    public static unsafe void Exec(string executable, ProcessSpec process)
    {
        using var argv = new NativeStringArray(process.Args ?? []);
        using var envp = new NativeStringArray(process.Env ?? []);
        var path = NativeString.Allocate(executable);
        ResetSignalDispositions();
        LibC.execve(path, argv.Pointer, envp.Pointer);
        var errno = Marshal.GetLastPInvokeError();
        NativeMemory.Free(path);
        throw new SyscallException(errno, "execve", executable);
    }
}
