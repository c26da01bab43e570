namespace CriOci.CriServer.Tests;

public sealed class InstanceLockTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("crioci-lock-");

    public void Dispose() => root.Delete(recursive: true);

    private string LockPath => Path.Combine(root.FullName, "crioci.lock");

    [Fact]
    public void Acquire_HeldByAnother_ThrowsNamingRoot()
    {
        using var first = InstanceLock.Acquire(root.FullName, LockPath);

        var error = Assert.Throws<DaemonConfigException>(() => InstanceLock.Acquire(root.FullName, LockPath));

        Assert.StartsWith($"another crioci is running with root {root.FullName}", error.Message);
    }

    [Fact]
    public void Acquire_AfterRelease_Succeeds()
    {
        InstanceLock.Acquire(root.FullName, LockPath).Dispose();

        InstanceLock.Acquire(root.FullName, LockPath).Dispose();

        // Read once released: .NET takes flock(LOCK_SH) for any open that shares, which a held LOCK_EX refuses.
        Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(LockPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LockPath));
    }
}
