// Joins a container's time namespace before the .NET runtime starts.
//
// setns(2) into a time namespace refuses a caller with more than one thread (EUSERS,
// kernel/time/namespace.c timens_install), and the NativeAOT runtime starts its own threads
// before Main. An ELF constructor runs before that, while the process is still single-threaded
// (runc enters namespaces the same way, in C, before Go starts: libcontainer/nsexec).
//
// Protocol with the managed code (CriOci.OciRuntime.Init.TimeNamespaceJoin): the parent passes
// an inherited namespace descriptor as CRIOCI_TIME_NS_FD=<fd>; this code replaces that variable
// with CRIOCI_TIME_NS_RESULT=<errno> (0 on success) and closes the descriptor. Any other process
// of this executable finds no such variable and is left alone.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

__attribute__((constructor)) static void crioci_join_time_namespace(void)
{
    const char *text = getenv("CRIOCI_TIME_NS_FD");
    if (text == NULL)
    {
        return;
    }
    char *end = NULL;
    errno = 0;
    long fd = strtol(text, &end, 10);
    int result;
    if (errno != 0 || end == text || *end != '\0' || fd < 3 || fd > 4096)
    {
        result = EBADF;
    }
    else
    {
        result = setns((int)fd, CLONE_NEWTIME) == 0 ? 0 : errno;
        close((int)fd);
    }
    char value[16];
    snprintf(value, sizeof value, "%d", result);
    unsetenv("CRIOCI_TIME_NS_FD");
    setenv("CRIOCI_TIME_NS_RESULT", value, 1);
}
