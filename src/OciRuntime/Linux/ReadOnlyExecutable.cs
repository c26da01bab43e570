using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Runs the runtime's own binary, inside a container's namespaces, from a read-only mount no
/// namespace holds: a process of the container that reaches it through /proc/PID/exe (runc
/// CVE-2019-5736: open it while the runtime runs, write it once it has exited) gets EROFS,
/// and the host's file stays as it is. runc copies itself into a sealed memfd for this; a
/// detached clone of the binary's directory costs no copy, and being in no mount namespace it
/// propagates nowhere.
/// </summary>
public sealed class ReadOnlyExecutable : IDisposable
{
    private readonly int _treeFd;

    public ReadOnlyExecutable(string executable)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(executable)) ?? "/";
        _treeFd = Errno.Check(LibC.open_tree(LibC.AT_FDCWD, directory, LibC.OPEN_TREE_CLONE | (uint)LibC.O_CLOEXEC), "open_tree", directory);
        try
        {
            var attr = new LibC.MountAttr { AttrSet = LibC.MOUNT_ATTR_RDONLY };
            Errno.Check(LibC.mount_setattr(_treeFd, "", (uint)LibC.AT_EMPTY_PATH, ref attr), "mount_setattr ro", directory);
        }
        catch
        {
            LibC.close(_treeFd);
            throw;
        }
        // execve resolves this before it closes the close-on-exec descriptor it goes through.
        Path = $"/proc/self/fd/{_treeFd}/{System.IO.Path.GetFileName(executable)}";
    }

    /// <summary>The path to hand to execve (or posix_spawn) while this object lives.</summary>
    public string Path { get; }

    public void Dispose() => LibC.close(_treeFd);
}
