using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using CriOci.Core;
using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.PodSandbox.Network.HostLocal;

/// <summary>An address host-local style IPAM handed out: the address in its subnet, and the subnet's gateway.</summary>
internal sealed record IpAllocation(IPAddress Address, int PrefixLength, IPAddress Gateway);

/// <summary>
/// The host-local IPAM plugin's on-disk store, shared with the plugin itself
/// (plugins/ipam/host-local/backend/disk): under &lt;data dir&gt;/&lt;network&gt;/, one file per
/// address, named by the address, holding "&lt;container id&gt;\r\n&lt;ifname&gt;" (older plugins wrote the
/// id alone); "last_reserved_ip.&lt;range set index&gt;" holding the last address handed out of that
/// range set; and "lock", flock'ed exclusively around every change. Pods attached by the plugin
/// and natively share one allocator, in both directions and across up- and downgrades.
/// </summary>
internal sealed partial class HostLocalStore(string dataDirectory)
{
    public const string DefaultDataDirectory = "/var/lib/cni/networks";

    private const string LastReservedPrefix = "last_reserved_ip.";
    private const string LineBreak = "\r\n";
    private const UnixFileMode FileMode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public string NetworkDirectory(string network) => Path.Combine(dataDirectory, network);

    /// <summary>
    /// One address from each range set for <paramref name="containerId"/>/<paramref name="interfaceName"/>,
    /// in range-set order, as host-local's ADD. All or nothing: what was reserved is released when a later set fails.
    /// </summary>
    public IReadOnlyList<IpAllocation> Allocate(string network, string containerId, string interfaceName, IReadOnlyList<HostLocalRange> rangeSets)
    {
        var directory = NetworkDirectory(network);
        using var held = Lock(directory);
        var owner = Owner(containerId, interfaceName);
        var allocated = new List<IpAllocation>();
        try
        {
            var existing = AddressesOf(directory, containerId, interfaceName);
            for (var index = 0; index < rangeSets.Count; index++)
            {
                var range = rangeSets[index];
                // SPEC.md forbids a second allocation for one container and interface.
                if (existing.FirstOrDefault(range.Contains) is { } duplicate)
                {
                    throw new UnavailableException($"IPAM {network}: {duplicate} has been allocated to {containerId}, duplicate allocation is not allowed");
                }
                var reserved = range.Candidates(LastReserved(directory, index)).FirstOrDefault(address => TryReserve(directory, address, owner, index))
                    ?? throw new UnavailableException($"IPAM {network}: no IP addresses available in range set {range.RangeStart}-{range.RangeEnd}");
                allocated.Add(new IpAllocation(reserved, range.Subnet.PrefixLength, range.Gateway));
            }
            return allocated;
        }
        catch
        {
            foreach (var allocation in allocated)
            {
                File.Delete(Path.Combine(directory, allocation.Address.ToString()));
            }
            throw;
        }
    }

    /// <summary>
    /// Releases every address of <paramref name="containerId"/>/<paramref name="interfaceName"/> (or,
    /// when none, of the id alone, as older plugins wrote it), as host-local's DEL. Nothing to
    /// release is not an error: DEL may run twice.
    /// </summary>
    public void Release(string network, string containerId, string interfaceName)
    {
        var directory = NetworkDirectory(network);
        if (!Directory.Exists(directory))
        {
            return;
        }
        using var held = Lock(directory);
        if (!ReleaseMatching(directory, Owner(containerId, interfaceName)))
        {
            ReleaseMatching(directory, containerId.Trim());
        }
    }

    /// <summary>The addresses recorded for the container and interface (or the id alone).</summary>
    public List<IPAddress> AddressesOf(string directory, string containerId, string interfaceName)
    {
        var owner = Owner(containerId, interfaceName);
        var legacy = containerId.Trim();
        var addresses = new List<IPAddress>();
        foreach (var (path, content) in AddressFiles(directory))
        {
            if ((content == owner || content == legacy) && IPAddress.TryParse(Path.GetFileName(path), out var address))
            {
                addresses.Add(address);
            }
        }
        return addresses;
    }

    private static string Owner(string containerId, string interfaceName) => containerId.Trim() + LineBreak + interfaceName;

    private static bool ReleaseMatching(string directory, string owner)
    {
        var found = false;
        foreach (var (path, content) in AddressFiles(directory))
        {
            if (content == owner)
            {
                File.Delete(path);
                found = true;
            }
        }
        return found;
    }

    /// <summary>Every file's trimmed content, as the plugin compares it (it walks all files, lock and last_reserved_ip included; they never match an id).</summary>
    private static IEnumerable<(string Path, string Content)> AddressFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            string content;
            try
            {
                content = File.ReadAllText(path).Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            yield return (path, content);
        }
    }

    private static IPAddress? LastReserved(string directory, int rangeIndex)
    {
        try
        {
            return IPAddress.TryParse(File.ReadAllText(Path.Combine(directory, LastReservedPrefix + rangeIndex)), out var address) ? address : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Creates the address's file exclusively (false: taken), then records it as the range set's last reserved address.</summary>
    private static bool TryReserve(string directory, IPAddress address, string owner, int rangeIndex)
    {
        var path = Path.Combine(directory, address.ToString());
        try
        {
            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = FileMode0644,
            });
            file.Write(Encoding.UTF8.GetBytes(owner));
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        using (var last = new FileStream(Path.Combine(directory, LastReservedPrefix + rangeIndex), new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = FileMode0644,
        }))
        {
            last.Write(Encoding.ASCII.GetBytes(address.ToString()));
        }
        return true;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    private const int O_RDONLY = 0;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2;

    /// <summary>
    /// The plugin's lock: &lt;network dir&gt;/lock opened (created 0750 if missing, as go-filemutex does)
    /// and flock'ed exclusively, blocking; released when the descriptor closes. Opened with open(2),
    /// not FileStream, which would take its own non-blocking flock and fail while the plugin holds it.
    /// </summary>
    private static SafeFileHandle Lock(string directory)
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var path = Path.Combine(directory, "lock");
        var fd = Errno.Check(open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0b111_101_000), "open", path);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        while (flock(fd, LOCK_EX) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                handle.Dispose();
                throw new SyscallException(errno, "flock", path);
            }
        }
        return handle;
    }
}
