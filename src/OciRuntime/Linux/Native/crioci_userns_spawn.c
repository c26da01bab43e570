/*
 * Starts a process in a user namespace for a multi-threaded caller (the .NET runtime).
 *
 * The kernel refuses unshare(CLONE_NEWUSER) and setns() into a user namespace to a process
 * with more than one thread, and a NativeAOT process always has several (finalizer, GC), so
 * the namespace is made where only one thread exists: in a child between clone and execve.
 * No managed code may run there (fork of a managed process), so this is C, like runc's
 * nsexec.c and dotnet/runtime's pal_process.c. Only system calls run in the child.
 *
 * The caller (ProcessSpawner.UserNamespaceSpawn) prepares everything: descriptors staged above
 * the target range, argv and envp, the namespace fd. It then writes the id maps of the child's
 * new user namespace and places it in its cgroup while the child waits on the release pipe.
 *
 * Child steps, in runc's order:
 *   1. clone(clone_flags): with CLONE_NEWUSER the kernel makes the user namespace first and
 *      every other namespace of the same call is owned by it;
 *   2. join user_ns_fd (a user namespace given by path), before waiting, so the parent can
 *      compare its maps with the configuration;
 *   3. wait for the parent's byte on release_fd (maps written, cgroup joined);
 *   4. become root of the user namespace (setresgid, setgroups, setresuid to 0): execve keeps
 *      the capabilities only for a process whose uid is that namespace's root;
 *   5. unshare(unshare_flags): namespaces owned by a joined user namespace;
 *   6. with CLONE_NEWPID among them, clone once more with CLONE_PARENT so the process that
 *      execs is pid 1 of the new pid namespace and the caller's child; report its pid;
 *   7. default signal dispositions, empty mask, setsid, descriptors, execve.
 * The child is a copy of one thread of a multi-threaded process: only plain system calls are
 * safe there, no glibc function that takes a lock or talks to the other (absent) threads.
 * Every failure is reported as a record on report_fd (close-on-exec: end-of-file means every
 * process that holds it has exec'd or exited).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct crioci_userns_spawn
{
    const char *path;
    char *const *argv;
    char *const *envp;
    const int *fds;      /* fds[i] becomes descriptor i of the new process */
    int32_t fd_count;
    int32_t clone_flags; /* namespaces created by clone itself (CLONE_NEWUSER first) */
    int32_t unshare_flags; /* namespaces created after joining user_ns_fd */
    int32_t user_ns_fd;  /* a user namespace to join, or -1 */
    int32_t release_fd;  /* read end: one byte from the parent lets the child go on */
    int32_t release_parent_fd; /* the parent's write end, closed here so a dead parent means end-of-file */
    int32_t report_fd;   /* write end, close-on-exec: records for the parent */
    int32_t new_session;
};

/* A record on report_fd: kind is a CRIOCI_STEP_* failure (value = errno) or CRIOCI_REPORT_PID. */
struct crioci_report
{
    int32_t kind;
    int32_t value;
};

enum
{
    CRIOCI_REPORT_PID = 1,
    CRIOCI_STEP_SETNS_USER = 2,
    CRIOCI_STEP_RELEASE = 3,
    CRIOCI_STEP_SETRESGID = 4,
    CRIOCI_STEP_SETGROUPS = 5,
    CRIOCI_STEP_SETRESUID = 6,
    CRIOCI_STEP_UNSHARE = 7,
    CRIOCI_STEP_CLONE_PID = 8,
    CRIOCI_STEP_SETSID = 9,
    CRIOCI_STEP_DUP2 = 10,
    CRIOCI_STEP_EXECVE = 11,
};

static void report(int fd, int32_t kind, int32_t value)
{
    struct crioci_report record = { kind, value };
    ssize_t written;
    do
    {
        written = write(fd, &record, sizeof record);
    } while (written < 0 && errno == EINTR);
}

static void __attribute__((noreturn)) fail(int fd, int32_t step)
{
    report(fd, step, errno);
    _exit(127);
}

static void __attribute__((noreturn)) run_child(const struct crioci_userns_spawn *request)
{
    int fd = request->report_fd;
    close(request->release_parent_fd);
    if (request->user_ns_fd >= 0 && setns(request->user_ns_fd, CLONE_NEWUSER) < 0)
    {
        fail(fd, CRIOCI_STEP_SETNS_USER);
    }
    char go;
    ssize_t got;
    do
    {
        got = read(request->release_fd, &go, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1)
    {
        /* The parent gave up (or died) before releasing: nothing to report to. */
        _exit(126);
    }
    /* Raw system calls, not glibc's set*id wrappers: those broadcast the change to every thread
       glibc believes the process has, taking locks another thread of the parent may have held
       at clone time, and this copy would wait for them forever. */
    if (syscall(SYS_setresgid, 0, 0, 0) < 0)
    {
        fail(fd, CRIOCI_STEP_SETRESGID);
    }
    /* The host's supplementary groups mean nothing inside; EPERM when setgroups is denied. */
    if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
    {
        fail(fd, CRIOCI_STEP_SETGROUPS);
    }
    if (syscall(SYS_setresuid, 0, 0, 0) < 0)
    {
        fail(fd, CRIOCI_STEP_SETRESUID);
    }
    if (request->unshare_flags != 0 && unshare(request->unshare_flags) < 0)
    {
        fail(fd, CRIOCI_STEP_UNSHARE);
    }
    if (request->unshare_flags & CLONE_NEWPID)
    {
        long pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), 0, 0, 0, 0);
        if (pid < 0)
        {
            fail(fd, CRIOCI_STEP_CLONE_PID);
        }
        if (pid > 0)
        {
            report(fd, CRIOCI_REPORT_PID, (int32_t)pid);
            _exit(0);
        }
    }

    sigset_t none;
    sigemptyset(&none);
    struct sigaction defaults = { 0 };
    defaults.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++)
    {
        /* glibc's own real-time signals and SIGKILL/SIGSTOP refuse; that is fine. */
        sigaction(signal, &defaults, NULL);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (request->new_session && setsid() < 0)
    {
        fail(fd, CRIOCI_STEP_SETSID);
    }
    /* The sources are above the target range (the caller staged them), so no dup2 overwrites
       a source not copied yet; each target loses close-on-exec. */
    for (int i = 0; i < request->fd_count; i++)
    {
        if (dup2(request->fds[i], i) < 0)
        {
            fail(fd, CRIOCI_STEP_DUP2);
        }
    }
    execve(request->path, request->argv, request->envp);
    fail(fd, CRIOCI_STEP_EXECVE);
}

/*
 * Returns the child's pid (in the caller's pid namespace), or -1 with errno set when clone
 * failed. The child waits on release_fd; the caller closes its copies of release_fd's read end
 * and report_fd.
 */
int32_t crioci_userns_spawn(const struct crioci_userns_spawn *request)
{
    /* Fork-like (no new stack): the child continues here on its copy of this thread's stack. */
    long pid = syscall(SYS_clone, (unsigned long)request->clone_flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
    {
        run_child(request);
    }
    return (int32_t)pid;
}
