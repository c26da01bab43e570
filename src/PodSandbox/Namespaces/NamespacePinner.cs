using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox.Namespaces;

/// <summary>
/// Creates namespaces on a dedicated thread (unshare affects only the calling thread), brings
/// up loopback and sets the hostname inside them, and bind-mounts /proc/thread-self/ns/* onto
/// files. The thread then ends; the mounts keep the namespaces alive. A pod with its own user
/// namespace has its namespaces made by a held child instead (<see cref="PinOwned"/>).
/// </summary>
internal sealed class NamespacePinner(IMounter mounter) : INamespacePinner
{
    private static readonly (string Name, int Flag)[] Kinds =
    [
        ("net", CloneFlags.Network),
        ("ipc", CloneFlags.Ipc),
        ("uts", CloneFlags.Uts),
    ];

    private const string UserPin = "user";

    public PinnedNamespaces Pin(string directory, PodNamespaceRequest request)
    {
        Directory.CreateDirectory(directory);
        var wanted = Kinds.Where(k => k.Name switch
        {
            "net" => request.Network,
            "ipc" => request.Ipc,
            _ => request.Uts,
        }).ToArray();
        if (wanted.Length == 0 && request.UserNamespace is null)
        {
            return new PinnedNamespaces(null, null, null);
        }
        var pins = new Dictionary<string, string>();
        try
        {
            if (request.UserNamespace is { } userNamespace)
            {
                PinOwned(directory, request, wanted, userNamespace, pins);
            }
            else
            {
                OnOwnThread(() =>
                {
                    NamespaceCalls.Unshare(wanted.Aggregate(0, (all, kind) => all | kind.Flag));
                    SetUp(request);
                    var tid = NamespaceCalls.ThreadId();
                    foreach (var (name, _) in wanted)
                    {
                        pins[name] = PinFile(directory, name, $"/proc/self/task/{tid}/ns/{name}");
                    }
                });
            }
        }
        catch (Exception failure)
        {
            Unpin(directory);
            throw new Core.UnavailableException($"pin pod namespaces in {directory}: {failure.Message}", failure);
        }
        return new PinnedNamespaces(pins.GetValueOrDefault("net"), pins.GetValueOrDefault("ipc"), pins.GetValueOrDefault("uts"), pins.GetValueOrDefault(UserPin));
    }

    /// <summary>
    /// The daemon has threads, so it cannot unshare a user namespace itself: a child cloned into
    /// a new one with the pod's maps, and into the wanted namespaces, which the kernel makes owned
    /// by it (so the pod's root administers its network, hostname and IPC), holds them while they
    /// are pinned. The host's root keeps its power over namespaces its user namespace's
    /// descendants own, so a thread then enters them to set the hostname and bring up loopback.
    /// </summary>
    private void PinOwned(string directory, PodNamespaceRequest request, (string Name, int Flag)[] wanted,
        Sandboxes.PodUserNamespace userNamespace, Dictionary<string, string> pins)
    {
        var flags = wanted.Aggregate(0, (all, kind) => all | kind.Flag);
        UserNamespaceSpawn.HoldNamespaces(userNamespace.Uids, userNamespace.Gids, flags, holder =>
        {
            foreach (var name in wanted.Select(k => k.Name).Prepend(UserPin))
            {
                pins[name] = PinFile(directory, name, $"/proc/{holder}/ns/{name}");
            }
        });
        OnOwnThread(() =>
        {
            if (pins.TryGetValue("uts", out var uts))
            {
                NamespaceCalls.EnterNamespace(uts, CloneFlags.Uts);
            }
            if (pins.TryGetValue("net", out var net))
            {
                NamespaceCalls.EnterNamespace(net, CloneFlags.Network);
            }
            SetUp(request);
        });
    }

    /// <summary>Hostname and loopback, inside the namespaces the calling thread is in.</summary>
    private static void SetUp(PodNamespaceRequest request)
    {
        if (request.Uts && request.Hostname is { Length: > 0 } hostname)
        {
            NamespaceCalls.SetHostname(hostname);
        }
        if (request.Network)
        {
            Loopback.BringUp();
        }
    }

    private string PinFile(string directory, string name, string namespaceFile)
    {
        var pin = Path.Combine(directory, name);
        File.WriteAllBytes(pin, []);
        mounter.Bind(namespaceFile, pin, readOnly: false);
        return pin;
    }

    /// <summary>Runs <paramref name="action"/> on a new thread that then ends, so no pool thread keeps its namespaces.</summary>
    private static void OnOwnThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
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
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    public void Unpin(string directory)
    {
        // A RemovePodSandbox retried after the daemon was killed half-way finds the pod's state
        // directory already deleted: the pins went with it, and File.Delete would throw.
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var name in Kinds.Select(k => k.Name).Append(UserPin))
        {
            var pin = Path.Combine(directory, name);
            mounter.Unmount(pin);
            File.Delete(pin);
        }
    }
}
