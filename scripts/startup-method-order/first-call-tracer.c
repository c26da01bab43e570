// first-call-tracer: lists the functions a program calls, in the order of their first call.
//
// Used to lay out the daemon's start-up code together (src/CriServer/StartupMethods.order).
// Sampling profilers miss the many small functions that start-up calls once; this puts a
// one-shot breakpoint (int3) on every function entry given, and each one, when hit, is
// recorded, restored and never stops the program again, so the program runs at nearly full
// speed after its first few thousand calls. Needs a non-PIE executable (addresses in the file
// are the addresses at run time) and ptrace rights (root).
//
// usage: first-call-tracer ENTRIES BINARY SEGMENT_VADDR SEGMENT_OFFSET SECONDS OUT COMMAND [ARGS...]
//   ENTRIES  sorted function entry addresses (hex, one a line) inside one segment of BINARY
//   SEGMENT_VADDR, SEGMENT_OFFSET  where that segment is in memory and in the file (hex)
//   SECONDS  how long to let COMMAND run before it is killed
//   OUT      receives the entries hit, in first-hit order (16 hex digits, one a line)
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long *entries;
static unsigned char *original_bytes;
static unsigned char *was_hit;
static size_t entry_count;
static pid_t traced_pid;

static void stop_traced_program(int signal_number)
{
    (void)signal_number;
    kill(traced_pid, SIGKILL);
}

static long find_entry(unsigned long address)
{
    size_t low = 0, high = entry_count;
    while (low < high)
    {
        size_t middle = low + (high - low) / 2;
        if (entries[middle] == address)
            return (long)middle;
        if (entries[middle] < address)
            low = middle + 1;
        else
            high = middle;
    }
    return -1;
}

static int read_entries(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return -1;
    size_t capacity = 1 << 16;
    entries = malloc(capacity * sizeof *entries);
    unsigned long address;
    while (fscanf(file, "%lx", &address) == 1)
    {
        if (entry_count == capacity)
            entries = realloc(entries, (capacity *= 2) * sizeof *entries);
        entries[entry_count++] = address;
    }
    fclose(file);
    return 0;
}

// The original first byte of each function, from the file rather than from memory: the
// breakpoints are written before the program runs, so memory and file still agree.
static int read_original_bytes(const char *binary, unsigned long segment_vaddr, unsigned long segment_offset)
{
    int fd = open(binary, O_RDONLY);
    if (fd < 0)
        return -1;
    original_bytes = malloc(entry_count);
    was_hit = calloc(entry_count, 1);
    for (size_t i = 0; i < entry_count; i++)
    {
        if (pread(fd, &original_bytes[i], 1, (off_t)(entries[i] - segment_vaddr + segment_offset)) != 1)
            return -1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 8)
    {
        fprintf(stderr, "usage: %s ENTRIES BINARY SEGMENT_VADDR SEGMENT_OFFSET SECONDS OUT COMMAND [ARGS...]\n", argv[0]);
        return 2;
    }
    if (read_entries(argv[1]) != 0 || read_original_bytes(argv[2], strtoul(argv[3], NULL, 16), strtoul(argv[4], NULL, 16)) != 0)
    {
        perror("first-call-tracer: reading the entries or the binary");
        return 1;
    }
    FILE *out = fopen(argv[6], "w");
    if (out == NULL)
    {
        perror(argv[6]);
        return 1;
    }
    setvbuf(out, NULL, _IOLBF, 0); // whoever runs the tracer may kill it: keep what was seen

    traced_pid = fork();
    if (traced_pid == 0)
    {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execv(argv[7], argv + 7);
        _exit(127);
    }
    int status;
    waitpid(traced_pid, &status, 0); // stopped right after execve: the executable is mapped, nothing has run
    signal(SIGALRM, stop_traced_program);
    alarm((unsigned)atoi(argv[5]));
    // Threads are traced too (start-up runs on several); forked children are not, and the
    // daemon starts none before it is idle.
    ptrace(PTRACE_SETOPTIONS, traced_pid, NULL, (void *)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL));
    char memory_path[64];
    snprintf(memory_path, sizeof memory_path, "/proc/%d/mem", traced_pid);
    int memory = open(memory_path, O_RDWR);
    const unsigned char breakpoint = 0xCC;
    for (size_t i = 0; i < entry_count; i++)
        pwrite(memory, &breakpoint, 1, (off_t)entries[i]);
    ptrace(PTRACE_CONT, traced_pid, NULL, NULL);

    size_t hits = 0;
    pid_t thread;
    while ((thread = waitpid(-1, &status, __WALL)) > 0)
    {
        if (WIFEXITED(status) || WIFSIGNALED(status))
        {
            if (thread == traced_pid)
                break;
            continue;
        }
        int stop_signal = WSTOPSIG(status);
        int deliver = 0;
        if (stop_signal == SIGTRAP && (status >> 16) == 0)
        {
            struct user_regs_struct registers;
            ptrace(PTRACE_GETREGS, thread, NULL, &registers);
            long entry = find_entry(registers.rip - 1);
            if (entry >= 0)
            {
                // Two threads may reach the same breakpoint before it is restored: both rewind.
                if (!was_hit[entry])
                {
                    was_hit[entry] = 1;
                    pwrite(memory, &original_bytes[entry], 1, (off_t)entries[entry]);
                    fprintf(out, "%016lx\n", entries[entry]);
                    hits++;
                }
                registers.rip--;
                ptrace(PTRACE_SETREGS, thread, NULL, &registers);
            }
            else
            {
                deliver = SIGTRAP;
            }
        }
        else if (stop_signal != SIGTRAP && stop_signal != SIGSTOP)
        {
            deliver = stop_signal; // the runtime's own signals (GC suspension, child exits) go through
        }
        ptrace(PTRACE_CONT, thread, NULL, (void *)(long)deliver);
    }
    fclose(out);
    fprintf(stderr, "first-call-tracer: %zu of %zu functions called\n", hits, entry_count);
    return 0;
}
