/* crioci_clone.c: the clone both spawn helpers use (see there). */
#ifndef CRIOCI_CLONE_H
#define CRIOCI_CLONE_H

/*
 * Runs child(argument) in a new process that shares this one's memory, on a stack of its own,
 * while the calling thread waits (CLONE_VM | CLONE_VFORK, as posix_spawn does); every signal is
 * blocked in the child from its first instruction. cgroup2_fd >= 0: the child is born in that
 * cgroup2 directory (CLONE_INTO_CGROUP). Returns the child's pid once it has exec'd or exited,
 * or -1 with errno set.
 */
int crioci_clone_vfork(int (*child)(void *), void *argument, int cgroup2_fd)
    __attribute__((visibility("hidden")));

/* Whether this errno of crioci_clone_vfork with a cgroup2_fd means the kernel (before 5.7) or
   this CPU architecture cannot create a process in a cgroup, so it must join it itself. */
int crioci_clone_into_cgroup_unsupported(int error) __attribute__((visibility("hidden")));

#endif
