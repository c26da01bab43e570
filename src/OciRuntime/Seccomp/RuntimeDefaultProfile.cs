using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Seccomp;

/// <summary>
/// The profile Kubernetes' "RuntimeDefault" means: deny with EPERM what a container does not
/// need, allow the rest. The allow list has the same coverage as containerd's and Docker's
/// default profiles (the syscall names are the kernel's); syscalls that only a capability makes
/// useful are allowed only when the container holds that capability.
/// </summary>
public static class RuntimeDefaultProfile
{
    private static readonly string[] Allowed =
    [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
        "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
        "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
        "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
        "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
        "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
        "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "get_mempolicy",
        "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
        "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
        "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
        "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
        "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "madvise", "map_shadow_stack", "mbind", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
        "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
        "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
        "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
        "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
        "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
        "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_mempolicy", "set_mempolicy_home_node",
        "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
        "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
        "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair",
        "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
        "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
        "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
        "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
    ];

    /// <summary>Extra syscalls per capability in the bounding set (as containerd grants them).</summary>
    private static readonly (string Capability, string[] Syscalls)[] ByCapability =
    [
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYS_ADMIN", ["bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
            "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
            "sethostname", "setns", "syslog", "umount", "umount2", "unshare"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ];

    /// <summary>Flags of clone(2) that create namespaces: refused without CAP_SYS_ADMIN.</summary>
    private const ulong NamespaceCloneFlags = 0x7E020000;

    public static SeccompSpec Create(IReadOnlyCollection<string> boundingCapabilities)
    {
        var rules = new List<SeccompSyscallSpec>
        {
            new() { Names = Allowed, Action = "SCMP_ACT_ALLOW" },
            // personality(2) only for the harmless personas: the default, PER_LINUX32 and the query.
            new() { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArgSpec { Index = 0, Value = 0x0, Op = "SCMP_CMP_EQ" }] },
            new() { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArgSpec { Index = 0, Value = 0x0008, Op = "SCMP_CMP_EQ" }] },
            new() { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArgSpec { Index = 0, Value = 0x20000, Op = "SCMP_CMP_EQ" }] },
            new() { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArgSpec { Index = 0, Value = 0x20008, Op = "SCMP_CMP_EQ" }] },
            new() { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArgSpec { Index = 0, Value = 0xffffffff, Op = "SCMP_CMP_EQ" }] },
            new() { Names = ["arch_prctl", "modify_ldt"], Action = "SCMP_ACT_ALLOW" },
        };
        foreach (var (capability, syscalls) in ByCapability)
        {
            if (boundingCapabilities.Contains(capability))
            {
                rules.Add(new SeccompSyscallSpec { Names = syscalls, Action = "SCMP_ACT_ALLOW" });
            }
        }
        if (!boundingCapabilities.Contains("CAP_SYS_ADMIN"))
        {
            // clone without namespace flags is how every thread and process starts.
            rules.Add(new SeccompSyscallSpec
            {
                Names = ["clone"],
                Action = "SCMP_ACT_ALLOW",
                Args = [new SeccompArgSpec { Index = 0, Value = NamespaceCloneFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
            });
            // clone3 passes its flags in memory a filter cannot read: answer ENOSYS so libc
            // falls back to clone(2), whose flags the rule above checks.
            rules.Add(new SeccompSyscallSpec { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = Linux.Errno.ENOSYS });
        }
        return new SeccompSpec
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = Linux.Errno.EPERM,
            Architectures = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
            {
                System.Runtime.InteropServices.Architecture.Arm64 => ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
                System.Runtime.InteropServices.Architecture.X64 => ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                _ => [],
            },
            Syscalls = rules,
        };
    }
}
