/*
 * The clone of crioci_spawn.c and crioci_exec_spawn.c: a child that shares the caller's memory
 * until it execs or exits, on a stack of its own, while the calling thread waits (CLONE_VM |
 * CLONE_VFORK, as glibc's posix_spawn), born in the container's cgroup2 directory when one is
 * given (clone3 with CLONE_INTO_CGROUP, Linux 5.7).
 *
 * Why born there rather than moved: a write to cgroup.procs moves a whole thread group, and the
 * kernel takes its global cgroup_threadgroup_rwsem for writing to do it, which waits for an RCU
 * grace period: milliseconds on a busy node, on every container create and exec. A fork into a
 * cgroup takes that lock only for reading, as every fork does. cgroup v1 needs no clone flag:
 * a single task writing "0" to a hierarchy's tasks file moves only itself and the kernel skips
 * the lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start), which is what the children do.
 *
 * glibc 2.36 exports no clone3, and its syscall() cannot start a child on a new stack (the child
 * would return from it into frames that are not there), so the system call itself is a few
 * instructions of assembly per architecture, as in every C library's clone. Elsewhere the
 * function reports ENOSYS and the caller falls back to joining the cgroup from the child.
 */
#define _GNU_SOURCE
#include "crioci_clone.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args of <linux/sched.h>, version 2 (88 bytes, with the cgroup field). */
struct crioci_clone_args
{
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

/*
 * long crioci_raw_clone3(struct crioci_clone_args *args, size_t size, int (*child)(void *), void *argument)
 * The parent gets the raw result (pid, or -errno). The child starts on args->stack with the
 * registers the caller had, calls child(argument) and exits with its result.
 */
long crioci_raw_clone3(struct crioci_clone_args *args, size_t size, int (*child)(void *), void *argument)
    __attribute__((visibility("hidden")));

#if defined(__x86_64__)
#define CRIOCI_HAS_CLONE3 1
__asm__(
    ".pushsection .text\n"
    ".globl crioci_raw_clone3\n"
    ".hidden crioci_raw_clone3\n"
    ".type crioci_raw_clone3, @function\n"
    "crioci_raw_clone3:\n"
    /* The kernel keeps every register but rax, rcx and r11 across syscall, and the child
       starts with the parent's: r8 and r9 carry the function and its argument over. */
    "    mov %rdx, %r8\n"
    "    mov %rcx, %r9\n"
    "    mov $435, %eax\n" /* __NR_clone3 */
    "    syscall\n"
    "    test %rax, %rax\n"
    "    jz 1f\n"
    "    ret\n"
    "1:  xor %ebp, %ebp\n" /* the child's outermost frame */
    "    mov %r9, %rdi\n"
    "    call *%r8\n"
    "    mov %eax, %edi\n"
    "    mov $60, %eax\n" /* __NR_exit */
    "    syscall\n"
    "    hlt\n"
    ".size crioci_raw_clone3, .-crioci_raw_clone3\n"
    ".popsection\n");
#elif defined(__aarch64__)
#define CRIOCI_HAS_CLONE3 1
__asm__(
    ".pushsection .text\n"
    ".globl crioci_raw_clone3\n"
    ".hidden crioci_raw_clone3\n"
    ".type crioci_raw_clone3, %function\n"
    "crioci_raw_clone3:\n"
    "    hint #34\n" /* bti c: a landing pad where branch protection is on, a no-op elsewhere */
    /* Every register but x0 survives svc, and the child starts with the parent's. */
    "    mov x9, x2\n"
    "    mov x10, x3\n"
    "    mov x8, #435\n" /* __NR_clone3 */
    "    svc #0\n"
    "    cbz x0, 1f\n"
    "    ret\n"
    "1:  mov x29, xzr\n"
    "    mov x30, xzr\n"
    "    mov x0, x10\n"
    "    blr x9\n"
    "    mov x8, #93\n" /* __NR_exit */
    "    svc #0\n"
    "    brk #0\n"
    ".size crioci_raw_clone3, .-crioci_raw_clone3\n"
    ".popsection\n");
#else
#define CRIOCI_HAS_CLONE3 0
#endif

int crioci_clone_into_cgroup_unsupported(int error)
{
    /* ENOSYS: no clone3 (before 5.3) or no assembly here; EINVAL or E2BIG: a clone3 without
       CLONE_INTO_CGROUP or the cgroup field (5.3 to 5.6). */
    return error == ENOSYS || error == EINVAL || error == E2BIG;
}

int crioci_clone_vfork(int (*child)(void *), void *argument, int cgroup2_fd)
{
    if (cgroup2_fd >= 0 && !CRIOCI_HAS_CLONE3)
    {
        errno = ENOSYS;
        return -1;
    }
    const size_t stack_size = 128 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
    {
        return -1;
    }
    /* Until the child has reset the dispositions, a signal would run one of the runtime's
       handlers in it, on memory it shares with the runtime. Raw: glibc's sigprocmask leaves its
       own two signals unblocked. The child unblocks them itself, once it is ready. */
    uint64_t all = ~0ULL;
    uint64_t saved_mask = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved_mask, sizeof all);
    long pid = -1;
    if (cgroup2_fd >= 0)
    {
#if CRIOCI_HAS_CLONE3
        struct crioci_clone_args args = {
            .flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP,
            .exit_signal = SIGCHLD,
            .stack = (uint64_t)(uintptr_t)stack,
            .stack_size = stack_size,
            .cgroup = (uint64_t)cgroup2_fd,
        };
        pid = crioci_raw_clone3(&args, sizeof args, child, argument);
        if (pid < 0)
        {
            errno = (int)-pid;
            pid = -1;
        }
#endif
    }
    else
    {
        pid = clone(child, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, argument);
    }
    int saved_errno = errno;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved_mask, NULL, sizeof saved_mask);
    munmap(stack, stack_size);
    errno = saved_errno;
    return (int)pid;
}
