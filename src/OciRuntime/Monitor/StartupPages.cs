using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// Lets go of the executable's code and read-only data that start-up mapped into this process.
/// For the container's whole life the monitor runs a few functions (its epoll loop, the output
/// pump, the log writer); the runtime's and glibc's start-up and the session's parsing ran once.
/// The kernel maps a file's cached pages 64 KB around each page fault, so after start-up about
/// 1.2 MB of the monitor's 1.3 MB of code and 0.3 MB of its read-only data sat in every
/// monitor's RSS. MADV_DONTNEED drops only this process's page-table entries: the pages stay in
/// the page cache, shared, and whatever runs later faults its own pages back in from there.
/// </summary>
internal static unsafe class StartupPages
{
    private const uint PT_LOAD = 1;
    private const uint PT_PHDR = 6;
    private const uint PF_W = 2;

    /// <summary>sizeof(Elf64_Phdr): p_type (u32), p_flags (u32), p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align (u64 each).</summary>
    private const int ProgramHeaderBytes = 56;

    /// <summary>/proc/PID/pagemap, one u64 per page: bit 63 "present", bit 61 "file page or shared anonymous".</summary>
    private const ulong PagePresent = 1UL << 63;
    private const ulong PageFromFile = 1UL << 61;

    /// <summary>Pages whose pagemap entries are read at a time.</summary>
    private const int Batch = 512;

    /// <summary>
    /// Drops the mapped pages of every segment the executable cannot write (code, read-only
    /// data) that are still the file's own. A page the runtime once made writable and wrote is
    /// a private copy by now (not from the file) and is kept, as dropping it would lose the
    /// write. Best effort: without /proc nothing is dropped and nothing else changes.
    /// </summary>
    public static void Release()
    {
        // The runtime's finalizer thread starts beside Main and may still be on its way to its
        // wait: a round trip through it first, or its start-up faults code back in afterwards.
        GC.WaitForPendingFinalizers();
        var headers = (byte*)LibC.getauxval(LibC.AT_PHDR);
        var count = (int)LibC.getauxval(LibC.AT_PHNUM);
        if (headers is null || count == 0)
        {
            return;
        }
        var pagemap = LibC.open("/proc/self/pagemap", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (pagemap < 0)
        {
            return;
        }
        try
        {
            var loadBias = LoadBias(headers, count);
            var pageSize = (ulong)Environment.SystemPageSize;
            for (var i = 0; i < count; i++)
            {
                var header = headers + i * ProgramHeaderBytes;
                if (*(uint*)header != PT_LOAD || (*(uint*)(header + 4) & PF_W) != 0)
                {
                    continue;
                }
                var start = loadBias + *(ulong*)(header + 16);
                var end = start + *(ulong*)(header + 40);
                ReleaseFilePages(pagemap, start / pageSize, (end + pageSize - 1) / pageSize, pageSize);
            }
        }
        finally
        {
            LibC.close(pagemap);
        }
    }

    /// <summary>Where the executable was loaded relative to its link addresses (0 unless it is position-independent).</summary>
    private static ulong LoadBias(byte* headers, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var header = headers + i * ProgramHeaderBytes;
            if (*(uint*)header == PT_PHDR)
            {
                return (ulong)headers - *(ulong*)(header + 16);
            }
        }
        return 0;
    }

    /// <summary>madvise(MADV_DONTNEED) over each run of present, file-backed pages in [firstPage, endPage).</summary>
    private static void ReleaseFilePages(int pagemap, ulong firstPage, ulong endPage, ulong pageSize)
    {
        var entries = stackalloc ulong[Batch];
        for (var batchStart = firstPage; batchStart < endPage; batchStart += Batch)
        {
            var pages = (int)Math.Min(Batch, endPage - batchStart);
            var bytes = LibC.pread(pagemap, (byte*)entries, (nuint)(pages * sizeof(ulong)), (long)(batchStart * sizeof(ulong)));
            if (bytes != pages * sizeof(ulong))
            {
                return;
            }
            var runStart = -1;
            for (var page = 0; page <= pages; page++)
            {
                var droppable = page < pages && (entries[page] & (PagePresent | PageFromFile)) == (PagePresent | PageFromFile);
                if (droppable && runStart < 0)
                {
                    runStart = page;
                }
                else if (!droppable && runStart >= 0)
                {
                    LibC.madvise((nint)((batchStart + (ulong)runStart) * pageSize), (nuint)((ulong)(page - runStart) * pageSize), LibC.MADV_DONTNEED);
                    runStart = -1;
                }
            }
        }
    }
}
