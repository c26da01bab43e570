/*
 * posix_spawn for a child that must start in a container's cgroups (ProcessSpawner, for the
 * container's init): the child is born in the cgroup2 directory and moves itself into each v1
 * hierarchy's cgroup before it runs anything else, so nobody moves a whole process afterwards
 * (crioci_clone.c says why that is slow).
 *
 * The caller runs this on a thread that has already entered the namespaces the child is to
 * have. The child shares the caller's memory until execve (crioci_clone_vfork) and makes only
 * plain system calls:
 *   1. write "0" (the writer itself) to each v1 hierarchy's tasks file; without
 *      CLONE_INTO_CGROUP (kernel before 5.7) also to the cgroup2 directory's cgroup.procs;
 *   2. default signal dispositions, then an empty signal mask;
 *   3. setsid when asked;
 *   4. the staged descriptors onto 0..N-1;
 *   5. execve.
 * A failed step is left in the request (the memory is shared) before the child exits 127; the
 * caller's thread resumes only once the child has exec'd or exited, and then reads it.
 */
#define _GNU_SOURCE
#include "crioci_clone.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct crioci_spawn
{
    const char *path;
    char *const *argv;
    char *const *envp;
    const int32_t *fds;        /* fds[i] becomes descriptor i; staged above the target range */
    int32_t fd_count;
    int32_t new_session;
    const int32_t *cgroup_task_fds; /* each v1 hierarchy's tasks file, open for writing */
    int32_t cgroup_task_fd_count;
    int32_t cgroup2_fd;        /* the cgroup2 directory, or -1 */
    int32_t failed_step;       /* out: 0, or the CRIOCI_SPAWN_* step that failed */
    int32_t error;             /* out: that step's errno */
};

/* The child's steps, by the numbers NativeSpawn names them with. */
enum
{
    CRIOCI_SPAWN_CGROUP = 1,
    CRIOCI_SPAWN_SETSID = 2,
    CRIOCI_SPAWN_DUP2 = 3,
    CRIOCI_SPAWN_EXECVE = 4,
    CRIOCI_SPAWN_CLONE = 5,
};

struct spawn_child
{
    struct crioci_spawn *request;
    int born_in_cgroup2;
};

static void __attribute__((noreturn)) fail(struct crioci_spawn *request, int32_t step)
{
    *(volatile int32_t *)&request->error = errno;
    *(volatile int32_t *)&request->failed_step = step;
    _exit(127);
}

static void join_cgroup(struct crioci_spawn *request, int fd)
{
    if (write(fd, "0", 1) != 1)
    {
        fail(request, CRIOCI_SPAWN_CGROUP);
    }
}

static int run_child(void *argument)
{
    struct spawn_child *child = argument;
    struct crioci_spawn *request = child->request;
    for (int i = 0; i < request->cgroup_task_fd_count; i++)
    {
        join_cgroup(request, request->cgroup_task_fds[i]);
    }
    if (request->cgroup2_fd >= 0 && !child->born_in_cgroup2)
    {
        int procs = openat(request->cgroup2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (procs < 0)
        {
            fail(request, CRIOCI_SPAWN_CGROUP);
        }
        join_cgroup(request, procs);
        close(procs);
    }

    /* The runtime ignores SIGPIPE and handles others; ignored dispositions and the mask survive
       execve. Raw rt_sigaction: glibc's refuses its own real-time signals. */
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
    if (request->new_session && setsid() < 0)
    {
        fail(request, CRIOCI_SPAWN_SETSID);
    }
    for (int i = 0; i < request->fd_count; i++)
    {
        if (dup2(request->fds[i], i) < 0)
        {
            fail(request, CRIOCI_SPAWN_DUP2);
        }
    }
    execve(request->path, request->argv, request->envp);
    fail(request, CRIOCI_SPAWN_EXECVE);
}

/*
 * Returns the child's pid once it has exec'd, or -1 with errno set and failed_step naming what
 * failed (a child that failed has been reaped).
 */
int32_t crioci_spawn(struct crioci_spawn *request)
{
    struct spawn_child child = { request, request->cgroup2_fd >= 0 };
    request->failed_step = 0;
    request->error = 0;
    int pid = crioci_clone_vfork(run_child, &child, request->cgroup2_fd);
    if (pid < 0 && request->cgroup2_fd >= 0 && crioci_clone_into_cgroup_unsupported(errno))
    {
        child.born_in_cgroup2 = 0;
        pid = crioci_clone_vfork(run_child, &child, -1);
    }
    if (pid < 0)
    {
        request->error = errno;
        request->failed_step = CRIOCI_SPAWN_CLONE;
        return -1;
    }
    if (*(volatile int32_t *)&request->failed_step != 0)
    {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        {
        }
        errno = request->error;
        return -1;
    }
    return pid;
}

/* Lets managed code tell a process that has this file linked in from one (JIT-hosted) that has not. */
int32_t crioci_spawn_available(void)
{
    return 1;
}
