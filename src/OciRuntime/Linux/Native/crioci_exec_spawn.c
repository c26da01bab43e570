/*
 * Starts an extra process in a running container straight from the caller, with no runtime
 * process in between (runc and crun exec through a process of their own; a NativeAOT one
 * costs milliseconds to start, more than everything else an exec does).
 *
 * The caller (CriOci.OciRuntime.Launch.DirectExec) runs this on a dedicated thread that has
 * already joined the container's ipc, uts, net, cgroup, pid and mount namespaces, changed its
 * working directory to process.cwd and resolved the executable inside the container's root.
 * Everything left is per process and must happen in the child between clone and execve, where
 * no managed code may run: this file. It is the same sequence exec-init (Init/ExecInit.cs,
 * Init/ProcessSetup.cs) runs in C#, in the same order:
 *   1. join the container's cgroups: born in the cgroup2 one (crioci_clone.c), it writes "0"
 *      (meaning "the writer") to each v1 hierarchy's tasks file, and to the cgroup2 directory's
 *      cgroup.procs only where the kernel cannot clone into a cgroup; then it enters the
 *      container's own cgroup namespace, if it has one (the caller's thread could not: where
 *      cgroup2 is mounted with nsdelegate the kernel refuses to clone into a cgroup from inside
 *      a namespace that does not contain the caller's cgroup);
 *   2. resource limits;
 *   3. seccomp before the credentials when no_new_privs is off (loading then needs
 *      CAP_SYS_ADMIN, still held);
 *   4. drop capabilities from the bounding set, switch groups, gid and uid keeping the
 *      permitted set (PR_SET_KEEPCAPS), umask, set the capability sets, ambient capabilities,
 *      no_new_privs;
 *   5. seccomp last when no_new_privs is on (the setup syscalls need not be in the profile);
 *   6. default signal dispositions and an empty mask, descriptors, close-on-exec for the rest;
 *   7. execve.
 * The child shares the caller's memory (CLONE_VM, as glibc's posix_spawn does) until it execs
 * or exits, and the caller's thread waits meanwhile (CLONE_VFORK, crioci_clone_vfork): it only
 * touches its own stack and makes raw system calls. glibc's set*id wrappers are avoided on purpose: they signal
 * every thread glibc knows of, which in a copy of one thread of a multi-threaded process would
 * wait forever. A failure is one record (step, errno) on report_fd, which is close-on-exec:
 * end-of-file after clone returned means execve succeeded.
 */
#define _GNU_SOURCE
#include "crioci_clone.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct crioci_exec_rlimit
{
    int32_t resource;
    int32_t padding;
    uint64_t soft;
    uint64_t hard;
};

struct crioci_exec_spawn
{
    const char *path;
    char *const *argv;
    char *const *envp;
    const int32_t *fds;        /* fds[i] becomes descriptor i; staged above the target range */
    int32_t fd_count;
    int32_t report_fd;         /* write end, close-on-exec */
    const int32_t *cgroup_fds; /* the tasks file of each v1 hierarchy, open for writing */
    int32_t cgroup_fd_count;
    int32_t rlimit_count;
    const struct crioci_exec_rlimit *rlimits;
    const uint32_t *groups;
    int32_t group_count;
    uint32_t uid;
    uint32_t gid;
    int32_t umask;             /* -1: leave as it is */
    int32_t last_cap;
    int32_t no_new_privs;
    uint64_t held;             /* the caller's bounding set: only those can be dropped or asked for */
    uint64_t bounding;
    uint64_t effective;
    uint64_t permitted;
    uint64_t inheritable;
    uint64_t ambient;
    const struct sock_filter *seccomp_filter; /* NULL: no filter */
    int32_t seccomp_length;    /* instructions */
    uint32_t seccomp_flags;    /* SECCOMP_FILTER_FLAG_* */
    int32_t cgroup2_fd;        /* the cgroup2 directory, or -1 */
    int32_t cgroup_ns_fd;      /* the container's cgroup namespace, or -1 */
};

struct exec_child
{
    const struct crioci_exec_spawn *request;
    int born_in_cgroup2;
};

/* The child's steps, by the numbers DirectExec names them with. */
enum
{
    CRIOCI_EXEC_CGROUP = 1,
    CRIOCI_EXEC_RLIMIT = 2,
    CRIOCI_EXEC_SECCOMP = 3,
    CRIOCI_EXEC_CAPBSET_DROP = 4,
    CRIOCI_EXEC_KEEPCAPS = 5,
    CRIOCI_EXEC_SETGROUPS = 6,
    CRIOCI_EXEC_SETRESGID = 7,
    CRIOCI_EXEC_SETRESUID = 8,
    CRIOCI_EXEC_CAPSET = 9,
    CRIOCI_EXEC_AMBIENT = 10,
    CRIOCI_EXEC_NO_NEW_PRIVS = 11,
    CRIOCI_EXEC_DUP2 = 12,
    CRIOCI_EXEC_EXECVE = 13,
    CRIOCI_EXEC_SETNS_CGROUP = 14,
};

struct crioci_exec_report
{
    int32_t step;
    int32_t error;
};

static void __attribute__((noreturn)) fail(const struct crioci_exec_spawn *request, int32_t step)
{
    struct crioci_exec_report record = { step, errno };
    ssize_t written;
    do
    {
        written = write(request->report_fd, &record, sizeof record);
    } while (written < 0 && errno == EINTR);
    _exit(127);
}

static void load_seccomp(const struct crioci_exec_spawn *request)
{
    struct sock_fprog program = {
        .len = (unsigned short)request->seccomp_length,
        .filter = (struct sock_filter *)request->seccomp_filter,
    };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, request->seccomp_flags, &program) < 0)
    {
        fail(request, CRIOCI_EXEC_SECCOMP);
    }
}

static void apply_credentials(const struct crioci_exec_spawn *request)
{
    for (int cap = 0; cap <= request->last_cap && cap < 64; cap++)
    {
        uint64_t bit = 1ULL << cap;
        if ((request->held & bit) != 0 && (request->bounding & bit) == 0
            && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        {
            fail(request, CRIOCI_EXEC_CAPBSET_DROP);
        }
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    {
        fail(request, CRIOCI_EXEC_KEEPCAPS);
    }
    if (syscall(SYS_setgroups, (size_t)request->group_count, request->groups) < 0)
    {
        fail(request, CRIOCI_EXEC_SETGROUPS);
    }
    if (syscall(SYS_setresgid, request->gid, request->gid, request->gid) < 0)
    {
        fail(request, CRIOCI_EXEC_SETRESGID);
    }
    if (syscall(SYS_setresuid, request->uid, request->uid, request->uid) < 0)
    {
        fail(request, CRIOCI_EXEC_SETRESUID);
    }
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    {
        fail(request, CRIOCI_EXEC_KEEPCAPS);
    }
    if (request->umask >= 0)
    {
        umask((mode_t)request->umask);
    }
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)request->effective, (uint32_t)request->permitted, (uint32_t)request->inheritable },
        { (uint32_t)(request->effective >> 32), (uint32_t)(request->permitted >> 32), (uint32_t)(request->inheritable >> 32) },
    };
    if (syscall(SYS_capset, &header, data) < 0)
    {
        fail(request, CRIOCI_EXEC_CAPSET);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
        fail(request, CRIOCI_EXEC_AMBIENT);
    }
    for (int cap = 0; cap <= request->last_cap && cap < 64; cap++)
    {
        if ((request->ambient & (1ULL << cap)) != 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        {
            fail(request, CRIOCI_EXEC_AMBIENT);
        }
    }
    if (request->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
        fail(request, CRIOCI_EXEC_NO_NEW_PRIVS);
    }
}

static void join_cgroup(const struct crioci_exec_spawn *request, int fd)
{
    if (write(fd, "0", 1) != 1)
    {
        fail(request, CRIOCI_EXEC_CGROUP);
    }
}

static int run_child(void *argument)
{
    const struct exec_child *child = argument;
    const struct crioci_exec_spawn *request = child->request;
    for (int i = 0; i < request->cgroup_fd_count; i++)
    {
        join_cgroup(request, request->cgroup_fds[i]);
    }
    if (request->cgroup2_fd >= 0 && !child->born_in_cgroup2)
    {
        int procs = openat(request->cgroup2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (procs < 0)
        {
            fail(request, CRIOCI_EXEC_CGROUP);
        }
        join_cgroup(request, procs);
        close(procs);
    }
    if (request->cgroup_ns_fd >= 0 && setns(request->cgroup_ns_fd, CLONE_NEWCGROUP) < 0)
    {
        fail(request, CRIOCI_EXEC_SETNS_CGROUP);
    }
    for (int i = 0; i < request->rlimit_count; i++)
    {
        struct rlimit64 limit = { request->rlimits[i].soft, request->rlimits[i].hard };
        if (syscall(SYS_prlimit64, 0, request->rlimits[i].resource, &limit, NULL) < 0)
        {
            fail(request, CRIOCI_EXEC_RLIMIT);
        }
    }
    if (request->seccomp_filter != NULL && !request->no_new_privs)
    {
        load_seccomp(request);
    }
    apply_credentials(request);
    if (request->seccomp_filter != NULL && request->no_new_privs)
    {
        load_seccomp(request);
    }

    /* The .NET runtime ignores SIGPIPE and handles others; ignored dispositions and the mask
       survive execve. Raw rt_sigaction: glibc's refuses its own real-time signals anyway. */
    struct sigaction defaults = { 0 };
    defaults.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++)
    {
        if (signal != SIGKILL && signal != SIGSTOP)
        {
            syscall(SYS_rt_sigaction, signal, &defaults, NULL, _NSIG / 8);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);

    for (int i = 0; i < request->fd_count; i++)
    {
        if (dup2(request->fds[i], i) < 0)
        {
            fail(request, CRIOCI_EXEC_DUP2);
        }
    }
    /* Nothing of the daemon's may reach the container: every other descriptor closes at execve
       (report_fd among them, which is how the caller learns that execve succeeded). */
    if (syscall(SYS_close_range, (unsigned int)request->fd_count, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
        /* Before Linux 5.11: one descriptor at a time, up to the limit on descriptors. */
        struct rlimit64 files;
        long last = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &files) == 0 ? (long)files.rlim_cur : 1024;
        for (long fd = request->fd_count; fd < last; fd++)
        {
            fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        }
    }
    execve(request->path, request->argv, request->envp);
    fail(request, CRIOCI_EXEC_EXECVE);
}

/*
 * Returns the child's pid, or -1 with errno set. With CLONE_VFORK this returns once the child
 * has exec'd or exited; the caller then reads report_fd's other end.
 */
int32_t crioci_exec_spawn(const struct crioci_exec_spawn *request)
{
    /* Until execve the child runs in this process's memory, inside the container's pid namespace
       and, once it has dropped to the container's capabilities, no more privileged than the
       container's processes: a dumpable memory map would let them ptrace it, or open its
       /proc/PID/exe (this binary, on the host) and mem (runc CVE-2019-5736). The flag belongs
       to the memory map, which is this process's own, so it stays off for the process's life,
       as a runtime's should; the child's execve gives it a map of its own with the usual rules. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    {
        return -1;
    }
    struct exec_child child = { request, request->cgroup2_fd >= 0 };
    int pid = crioci_clone_vfork(run_child, &child, request->cgroup2_fd);
    if (pid < 0 && request->cgroup2_fd >= 0 && crioci_clone_into_cgroup_unsupported(errno))
    {
        child.born_in_cgroup2 = 0;
        pid = crioci_clone_vfork(run_child, &child, -1);
    }
    return pid;
}

/* Lets managed code tell a process that has this file linked in from one (JIT-hosted) that has not. */
int32_t crioci_exec_spawn_available(void)
{
    return 1;
}
