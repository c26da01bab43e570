using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Resolves and creates paths inside a container's root file system so that no symlink in the
/// image can redirect them outside it: every lookup is openat2(RESOLVE_IN_ROOT), which treats
/// the rootfs as "/" for absolute symlinks and "..". Mounts then target the resolved
/// descriptor through /proc/self/fd, never the path string again (the runc CVE-2021-30465 race).
/// </summary>
public sealed class RootedPath : IDisposable
{
    private const ulong ResolveFlags = LibC.RESOLVE_IN_ROOT | LibC.RESOLVE_NO_MAGICLINKS;

    private readonly int _rootFd;

    public RootedPath(string rootfs)
    {
        RootPath = rootfs;
        _rootFd = Errno.Check(LibC.open(rootfs, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open rootfs", rootfs);
    }

    public string RootPath { get; }

    /// <summary>Opens an existing path inside the root as O_PATH; returns -1 with ENOENT.</summary>
    public int TryOpen(string path, int flags = LibC.O_PATH)
    {
        var how = new LibC.OpenHow { Flags = (ulong)(flags | LibC.O_CLOEXEC), Resolve = ResolveFlags };
        var fd = LibC.openat2(_rootFd, Relative(path), ref how);
        if (fd < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT)
            {
                return -1;
            }
            throw new SyscallException(errno, "openat2", Path.Combine(RootPath, Relative(path)));
        }
        return fd;
    }

    /// <summary>
    /// The path with every symlink resolved as if the rootfs were "/" (securejoin's rule), so
    /// that a link to something that does not exist yet (an image's
    /// /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf) names the place to create
    /// inside the root. Only prefixes already resolved are read, so no link is followed twice.
    /// </summary>
    public string Resolve(string path)
    {
        const int MaxLinks = 40;
        var pending = new LinkedList<string>(Relative(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var resolved = new List<string>();
        var links = 0;
        var buffer = new byte[4096];
        while (pending.First is { } first)
        {
            var component = first.Value;
            pending.RemoveFirst();
            if (component == ".")
            {
                continue;
            }
            if (component == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }
                continue;
            }
            var candidate = string.Join('/', resolved.Append(component));
            var length = LibC.readlinkat(_rootFd, candidate, buffer, (nuint)buffer.Length);
            if (length < 0)
            {
                // Not a link (EINVAL) or not there yet (ENOENT): the component stands as it is.
                resolved.Add(component);
                continue;
            }
            if (++links > MaxLinks)
            {
                throw new SyscallException(Errno.ELOOP, "resolve", Path.Combine(RootPath, Relative(path)));
            }
            var target = System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
            if (target.StartsWith('/'))
            {
                resolved.Clear();
            }
            foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.AddFirst(part);
            }
        }
        return string.Join('/', resolved);
    }

    /// <summary>mkdir -p inside the root; returns an O_PATH descriptor of the directory.</summary>
    public int CreateDirectory(string path, uint mode = 0x1ED /* 0755 */)
    {
        var relative = Resolve(path);
        var existing = TryOpen(relative, LibC.O_PATH | LibC.O_DIRECTORY);
        if (existing >= 0)
        {
            return existing;
        }
        var parent = Path.GetDirectoryName(relative) ?? "";
        var name = Path.GetFileName(relative);
        var parentFd = parent.Length == 0 ? LibC.dup(_rootFd) : CreateDirectory(parent, mode);
        try
        {
            if (LibC.mkdirat(parentFd, name, mode) < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != Errno.EEXIST)
                {
                    throw new SyscallException(errno, "mkdirat", Path.Combine(RootPath, relative));
                }
            }
        }
        finally
        {
            LibC.close(parentFd);
        }
        var created = TryOpen(relative, LibC.O_PATH | LibC.O_DIRECTORY);
        if (created < 0)
        {
            throw new SyscallException(Errno.ENOENT, "open created directory", Path.Combine(RootPath, relative));
        }
        return created;
    }

    /// <summary>Creates an empty file (and its parents) when missing; returns an O_PATH descriptor.</summary>
    public int CreateFile(string path, uint mode = 0x1A4 /* 0644 */)
    {
        var relative = Resolve(path);
        var existing = TryOpen(relative);
        if (existing >= 0)
        {
            return existing;
        }
        var parent = Path.GetDirectoryName(relative) ?? "";
        if (parent.Length > 0)
        {
            LibC.close(CreateDirectory(parent));
        }
        var how = new LibC.OpenHow
        {
            Flags = (ulong)(LibC.O_CREAT | LibC.O_RDONLY | LibC.O_CLOEXEC),
            Mode = mode,
            Resolve = ResolveFlags,
        };
        var fd = Errno.Check(LibC.openat2(_rootFd, relative, ref how), "create", Path.Combine(RootPath, relative));
        LibC.close(fd);
        return TryOpen(relative);
    }

    /// <summary>The descriptor's path for mount(2): the kernel follows it to the resolved inode.</summary>
    public static string ProcFdPath(int fd) => $"/proc/self/fd/{fd}";

    public static string Relative(string path) => path.TrimStart('/');

    public void Dispose() => LibC.close(_rootFd);
}
