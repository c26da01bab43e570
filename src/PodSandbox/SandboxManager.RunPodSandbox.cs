using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Namespaces;
using CriOci.PodSandbox.Network;
using CriOci.PodSandbox.Sandboxes;
using CriOci.PodSandbox.Storage;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    private const string DefaultShmOptions = "mode=1777,size=65536k";

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler, CancellationToken cancellationToken)
    {
        if (config.Metadata is not { Name.Length: > 0, Namespace.Length: > 0, Uid.Length: > 0 } metadata)
        {
            throw new InvalidArgumentException("config.metadata: name, namespace and uid are required");
        }
        if (_runtime is Handlers.RuntimeHandlerSet handlers)
        {
            handlers.Check(runtimeHandler);
        }
        else if (!string.IsNullOrEmpty(runtimeHandler))
        {
            throw new InvalidArgumentException($"runtime_handler \"{runtimeHandler}\" is not configured");
        }
        _securityModules.CheckSELinux(config.Linux?.SecurityContext?.SelinuxOptions, "config.linux.security_context.selinux_options");
        var userNamespace = PodUserNamespaceOf(config, runtimeHandler);
        var id = NewId();
        var rollback = new Rollback(_logger);
        // A kubelet timeout cancels its wait, not our work: a half-built pod is never left.
        try
        {
            var name = SandboxName(metadata);
            ReserveName(name, id, "pod sandbox");
            rollback.Push("release name", () => _reservedNames.TryRemove(name, out _));

            var namespaceOptions = config.Linux?.SecurityContext?.NamespaceOptions;
            var hostNetwork = namespaceOptions?.Network == NamespaceMode.Node;
            var hostIpc = namespaceOptions?.Ipc == NamespaceMode.Node;
            var hostname = SandboxFiles.Hostname(config);
            var sysctls = config.Linux?.Sysctls ?? [];
            PodSysctls.Validate(sysctls, hostNetwork, hostIpc);
            // The persistent directory comes before anything is acquired: a daemon killed from here
            // on leaves an incomplete record, which the next start finds and undoes (Recover);
            // pins made with no record beside them would be found by nobody.
            Directory.CreateDirectory(_sandboxStore.PathOf(id));
            rollback.Push("delete pod record", () => _sandboxStore.Delete(id));
            var state = SandboxStateDirectory(id);
            Directory.CreateDirectory(state);
            rollback.Push("delete pod state directory", () => DeleteTree(state));
            CreatePodCgroup(id, config, rollback);

            var pins = _pinner.Pin(Path.Combine(state, "ns"),
                new PodNamespaceRequest(Network: !hostNetwork, Ipc: !hostIpc, Uts: !hostNetwork, hostname, userNamespace));
            rollback.Push("unpin namespaces", () => _pinner.Unpin(Path.Combine(state, "ns")));

            // CNI ADD once the netns is pinned; the undo (DEL from the cache AddAsync writes before
            // the first plugin runs) is pushed first, so even a half-done ADD is undone, and it
            // runs before the unpin above it on the stack (plugins need the netns to clean up).
            IReadOnlyList<string>? podIps = null;
            if (!hostNetwork)
            {
                HostPorts.EnsureFree(config.PortMappings,
                    _sandboxes.Values.Where(s => s.Record.Ready && s.Record.PodIps is not null).SelectMany(s => s.Config.PortMappings));
                var networkCache = NetworkCacheDirectory(id);
                rollback.Push("CNI DEL", () => _cni.DeleteAsync(networkCache, CancellationToken.None));
                var attachment = await _cni.AddAsync(new CniPodRequest(id, pins.Network!, metadata.Name, metadata.Namespace, metadata.Uid,
                    [.. config.PortMappings], config.DnsConfig, config.Annotations), networkCache, CancellationToken.None).ConfigureAwait(false);
                podIps = attachment.Ips;
            }
            PodSysctls.Apply(sysctls, pins.Network, pins.Ipc);

            var shm = hostIpc ? "/dev/shm" : Path.Combine(state, "shm");
            if (!hostIpc)
            {
                Directory.CreateDirectory(shm);
                _mounter.MountTmpfs(shm, OciRuntime.Security.MountLabel.AddTo(DefaultShmOptions, _securityModules.PodMountLabel(config.Linux?.SecurityContext, id)));
                rollback.Push("unmount shm", () => _mounter.Unmount(shm));
            }

            var infra = await StartPodInfraAsync(id, config, pins, rollback).ConfigureAwait(false);

            var record = new SandboxRecord(id, DateTimeOffset.UtcNow, Ready: true, runtimeHandler,
                pins.Network, pins.Ipc, pins.Uts, shm,
                Path.Combine(state, "hostname"), Path.Combine(state, "hosts"), Path.Combine(state, "resolv.conf"), podIps, infra, pins.User);
            SandboxFiles.WriteHostname(record.HostnameFile, hostNetwork ? Environment.MachineName : hostname);
            SandboxFiles.WriteHosts(record.HostsFile, hostname, hostNetwork, podIps?.FirstOrDefault());
            SandboxFiles.WriteResolvConf(record.ResolvConfFile, config.DnsConfig);

            _sandboxStore.Save(id, record, config);
            _sandboxes[id] = new SandboxEntry(record, config);
            rollback.Commit();
            Log.SandboxReady(_logger, id, name);
            Announce(id, id, ContainerEventType.ContainerStartedEvent);
            return id;
        }
        catch
        {
            await rollback.RunAsync().ConfigureAwait(false);
            throw;
        }
    }
}
