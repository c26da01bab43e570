using CriOci.OciRuntime.Launch;
using CriOci.PodSandbox.Namespaces;
using CriOci.PodSandbox.Network;
using Microsoft.Extensions.Logging;

namespace CriOci.PodSandbox;

/// <param name="RootDirectory">Persistent data (pods and containers survive daemon restarts here).</param>
/// <param name="StateDirectory">Runtime state on tmpfs: namespace pins, bundles, exit files.</param>
/// <param name="RuntimeExecutable">The crioci-runtime binary.</param>
/// <param name="Cni">Where the CNI configs and plugins are; null: the standard places (<see cref="CniOptions.Default"/>).</param>
public sealed record SandboxManagerOptions(string RootDirectory, string StateDirectory, string RuntimeExecutable, CniOptions? Cni = null)
{
    /// <summary>The RuntimeClass handlers: the embedded runtime and external runc-compatible binaries.</summary>
    public Handlers.RuntimeHandlerOptions RuntimeHandlers { get; init; } = Handlers.RuntimeHandlerOptions.EmbeddedOnly;

    /// <summary>The embedded runtime's own state (one directory per container) inside the state directory.</summary>
    public string RuntimeStateRoot => Path.Combine(StateDirectory, "runtime");

    /// <summary>The host's cgroups, where each pod gets its own cgroup; null: none (managers over fakes in unit tests).</summary>
    public OciRuntime.Cgroups.CgroupHierarchy? PodCgroupHierarchy { get; init; }

    /// <summary>
    /// One directory per container, holding its record and its overlay upper and work dirs:
    /// the containers' writable layers, which CRI ImageFsInfo reports as container_filesystems.
    /// </summary>
    public string ContainersDirectory => Path.Combine(RootDirectory, "containers");
}

public static class SandboxManagerFactory
{
    public static ISandboxManager Create(SandboxManagerOptions options, ILoggerFactory loggerFactory)
    {
        var mounter = new Mounter();
        var embedded = new ContainerRuntime(new RuntimeOptions(options.RuntimeExecutable, options.RuntimeStateRoot));
        embedded.PrepareStandby();
        // Image layers live under the daemon's root directory too (one file system to probe).
        var runtime = Handlers.RuntimeHandlerSet.Create(options.RuntimeHandlers, embedded, options.RuntimeExecutable, options.StateDirectory, options.RootDirectory);
        var logger = loggerFactory.CreateLogger<SandboxManager>();
        var cni = new CniInvoker(options.Cni ?? CniOptions.Default, logger);
        options = options with { PodCgroupHierarchy = options.PodCgroupHierarchy ?? OciRuntime.Cgroups.CgroupHierarchy.Detect() };
        return new SandboxManager(options, runtime, new NamespacePinner(mounter), mounter, cni, logger);
    }
}
