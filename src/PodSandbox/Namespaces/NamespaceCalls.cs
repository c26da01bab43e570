using System.Runtime.InteropServices;
using System.Text;
using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox.Namespaces;

/// <summary>The namespace syscalls the pinner makes, checked.</summary>
internal static partial class NamespaceCalls
{
    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc", EntryPoint = "sethostname", SetLastError = true)]
    private static partial int sethostname(byte[] name, nint length);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int gettid();

    public static void Unshare(int flags) => Errno.Check(unshare(flags), "unshare", $"0x{flags:x}");

    public static void SetHostname(string hostname)
    {
        var bytes = Encoding.UTF8.GetBytes(hostname);
        Errno.Check(sethostname(bytes, bytes.Length), "sethostname", hostname);
    }

    public static int ThreadId() => gettid();

    /// <summary>Moves the calling thread (only) into the network namespace pinned at <paramref name="path"/>.</summary>
    public static void EnterNetworkNamespace(string path) => EnterNamespace(path, CloneFlags.Network);

    /// <summary>Moves the calling thread (only) into the namespace of kind <paramref name="cloneFlag"/> pinned at <paramref name="path"/>.</summary>
    public static void EnterNamespace(string path, int cloneFlag)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        Errno.Check(setns((int)handle.DangerousGetHandle(), cloneFlag), "setns", path);
    }
}
