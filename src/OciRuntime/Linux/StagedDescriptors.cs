using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Close-on-exec copies of the descriptors a child is to get as 0..N-1, numbered 64 and up:
/// the child dup2s copy i onto i, and since no copy sits in the target range, no dup2 overwrites
/// a source not copied yet (a child's stdout that is the parent's descriptor 0, say), and each
/// target loses close-on-exec. The parent closes the copies once the child has its own.
/// </summary>
internal sealed class StagedDescriptors : IDisposable
{
    private StagedDescriptors(int[] fds) => Fds = fds;

    /// <summary>Copy i is for the child's descriptor i; -1 once closed.</summary>
    public int[] Fds { get; }

    public static StagedDescriptors Stage(IReadOnlyList<int> sources)
    {
        var fds = new int[sources.Count];
        Array.Fill(fds, -1);
        var staged = new StagedDescriptors(fds);
        try
        {
            for (var i = 0; i < sources.Count; i++)
            {
                fds[i] = Errno.Check(LibC.fcntl(sources[i], LibC.F_DUPFD_CLOEXEC, 64), "fcntl F_DUPFD_CLOEXEC", $"fd {sources[i]}");
            }
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        for (var i = 0; i < Fds.Length; i++)
        {
            if (Fds[i] >= 0)
            {
                LibC.close(Fds[i]);
                Fds[i] = -1;
            }
        }
    }
}
