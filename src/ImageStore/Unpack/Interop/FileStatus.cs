namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>What statx reports about one path (not following a final symlink).</summary>
internal readonly record struct FileStatus(
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    uint LinkCount,
    ulong Inode,
    long ModificationSeconds,
    uint ModificationNanoseconds,
    uint DeviceMajor,
    uint DeviceMinor)
{
    public uint Type => Mode & LibC.S_IFMT;
    public bool IsDirectory => Type == LibC.S_IFDIR;
    public bool IsSymbolicLink => Type == LibC.S_IFLNK;
    public bool IsRegularFile => Type == LibC.S_IFREG;
    public bool IsCharacterDevice => Type == LibC.S_IFCHR;

    /// <summary>Permission bits with setuid, setgid and sticky.</summary>
    public UnixFileMode Permissions => (UnixFileMode)(Mode & 0xFFF);
}
