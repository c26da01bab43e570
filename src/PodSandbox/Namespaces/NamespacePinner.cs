using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox.Namespaces;

/// <summary>
/// Creates namespaces on a dedicated thread (unshare affects only the calling thread), brings
/// up loopback and sets the hostname inside them, and bind-mounts /proc/thread-self/ns/* onto
/// files. The thread then ends; the mounts keep the namespaces alive.
/// </summary>
internal sealed class NamespacePinner(IMounter mounter) : INamespacePinner
{
    private static readonly (string Name, int Flag)[] Kinds =
    [
        ("net", CloneFlags.Network),
        ("ipc", CloneFlags.Ipc),
        ("uts", CloneFlags.Uts),
    ];

    public PinnedNamespaces Pin(string directory, PodNamespaceRequest request)
    {
        Directory.CreateDirectory(directory);
        var wanted = Kinds.Where(k => k.Name switch
        {
            "net" => request.Network,
            "ipc" => request.Ipc,
            _ => request.Uts,
        }).ToArray();
        if (wanted.Length == 0)
        {
            return new PinnedNamespaces(null, null, null);
        }
        var pins = new Dictionary<string, string>();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var flags = wanted.Aggregate(0, (all, kind) => all | kind.Flag);
                NamespaceCalls.Unshare(flags);
                if (request.Uts && request.Hostname is { Length: > 0 } hostname)
                {
                    NamespaceCalls.SetHostname(hostname);
                }
                if (request.Network)
                {
                    Loopback.BringUp();
                }
                var tid = NamespaceCalls.ThreadId();
                foreach (var (name, _) in wanted)
                {
                    var pin = Path.Combine(directory, name);
                    File.WriteAllBytes(pin, []);
                    mounter.Bind($"/proc/self/task/{tid}/ns/{name}", pin, readOnly: false);
                    pins[name] = pin;
                }
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        }, maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = "crioci-pinns",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            Unpin(directory);
            throw new Core.UnavailableException($"pin pod namespaces in {directory}: {failure.Message}", failure);
        }
        return new PinnedNamespaces(pins.GetValueOrDefault("net"), pins.GetValueOrDefault("ipc"), pins.GetValueOrDefault("uts"));
    }

    public void Unpin(string directory)
    {
        // A RemovePodSandbox retried after the daemon was killed half-way finds the pod's state
        // directory already deleted: the pins went with it, and File.Delete would throw.
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var (name, _) in Kinds)
        {
            var pin = Path.Combine(directory, name);
            mounter.Unmount(pin);
            File.Delete(pin);
        }
    }
}
