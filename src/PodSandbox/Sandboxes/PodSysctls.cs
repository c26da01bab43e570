using CriOci.Core;
using CriOci.OciRuntime.Linux;
using CriOci.PodSandbox.Namespaces;

namespace CriOci.PodSandbox.Sandboxes;

/// <summary>
/// A pod's sysctls (LinuxPodSandboxConfig.sysctls). Only namespaced ones are allowed, each only
/// when the pod owns the namespace it lives in (Kubernetes' list, pkg/kubelet/sysctl): a host
/// namespace's sysctl would change the node for everyone.
/// <para>
/// They are written once, by the daemon, into the pod's pinned namespaces at RunPodSandbox,
/// rather than into every container's config.json: the namespaces belong to the pod, not to a
/// container, so a value is the pod's whatever container starts or restarts later (containerd
/// likewise gives them to the pause container only); a bad name or value fails the pod's start
/// where kubelet reports it; and no container needs a writable /proc/sys.
/// </para>
/// </summary>
public static class PodSysctls
{
    private static readonly string[] IpcPrefixes = ["kernel.shm", "kernel.msg", "fs.mqueue."];

    /// <summary>Which of the pod's namespaces a sysctl lives in.</summary>
    public enum Namespace
    {
        Ipc,
        Network,
    }

    /// <summary>Throws InvalidArgumentException naming the first sysctl that is not allowed.</summary>
    public static void Validate(IReadOnlyDictionary<string, string> sysctls, bool hostNetwork, bool hostIpc)
    {
        foreach (var (name, value) in sysctls)
        {
            var kind = NamespaceOf(name)
                ?? throw new InvalidArgumentException($"sysctl {name}: not a namespaced sysctl; only kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* and net.* are allowed");
            if (kind == Namespace.Network && hostNetwork)
            {
                throw new InvalidArgumentException($"sysctl {name}: not allowed with the host's network namespace (hostNetwork)");
            }
            if (kind == Namespace.Ipc && hostIpc)
            {
                throw new InvalidArgumentException($"sysctl {name}: not allowed with the host's IPC namespace (hostIPC)");
            }
            if (value.Length == 0 || value.Any(c => char.IsControl(c) && c != '\t'))
            {
                throw new InvalidArgumentException($"sysctl {name}: value must be non-empty and without control characters");
            }
        }
    }

    /// <summary>The namespace of an allowed sysctl name; null for anything else (including malformed names).</summary>
    public static Namespace? NamespaceOf(string name)
    {
        // A name becomes a path under /proc/sys: no separators of its own, no empty or
        // dot-dot components, nothing but the characters kernel sysctl names use.
        if (name.Length == 0 || name.Contains("..", StringComparison.Ordinal) || name[0] == '.' || name[^1] == '.'
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return null;
        }
        if (name == "kernel.sem" || IpcPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal) && name.Length > p.Length))
        {
            return Namespace.Ipc;
        }
        return name.StartsWith("net.", StringComparison.Ordinal) && name.Length > 4 ? Namespace.Network : null;
    }

    /// <summary>
    /// Writes validated sysctls into the pod's namespaces from a thread that has joined them:
    /// /proc/sys/net and the IPC sysctls show the namespaces of the thread that opens them.
    /// </summary>
    internal static void Apply(IReadOnlyDictionary<string, string> sysctls, string? networkNamespace, string? ipcNamespace)
    {
        if (sysctls.Count == 0)
        {
            return;
        }
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (networkNamespace is not null)
                {
                    NamespaceCalls.EnterNamespace(networkNamespace, CloneFlags.Network);
                }
                if (ipcNamespace is not null)
                {
                    NamespaceCalls.EnterNamespace(ipcNamespace, CloneFlags.Ipc);
                }
                foreach (var (name, value) in sysctls)
                {
                    Write(name, value);
                }
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        }, maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = "crioci-sysctl",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private static void Write(string name, string value)
    {
        var path = "/proc/sys/" + name.Replace('.', '/');
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidArgumentException($"sysctl {name}: no such sysctl on this node");
        }
        catch (IOException exception)
        {
            throw new InvalidArgumentException($"sysctl {name}={value}: the kernel refused it: {exception.Message}");
        }
        catch (UnauthorizedAccessException exception)
        {
            throw new InvalidArgumentException($"sysctl {name}: cannot be written: {exception.Message}");
        }
    }
}
