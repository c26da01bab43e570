using System.Text.Json;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Containers;
using CriOci.PodSandbox.Storage;
using CriOci.PodSandbox.Telemetry;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task<string> CreateContainerAsync(string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, ContainerImage image,
        IReadOnlyDictionary<int, ContainerImage> imageVolumes, CancellationToken cancellationToken)
    {
        if (config.Metadata is not { Name.Length: > 0 } metadata)
        {
            throw new InvalidArgumentException("config.metadata.name is required");
        }
        _securityModules.CheckSELinux(config.Linux?.SecurityContext?.SelinuxOptions, "config.linux.security_context.selinux_options");
        var appArmorProfile = await _securityModules.AppArmorProfileAsync(config.Linux?.SecurityContext, cancellationToken).ConfigureAwait(false);
        var podId = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        using var podLock = await _locks.AcquireAsync(podId, cancellationToken).ConfigureAwait(false);
        if (!_sandboxes.TryGetValue(podId, out var sandbox))
        {
            throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        }
        if (!sandbox.Record.Ready)
        {
            throw new FailedPreconditionException($"pod sandbox {podId} is not ready");
        }
        var userNamespace = ContainerUserNamespaceOf(podId, sandbox.Config, config);
        var securityLabels = new LinuxSecurityLabels(appArmorProfile,
            _securityModules.SELinuxLabelsFor(config.Linux?.SecurityContext, sandbox.Config.Linux?.SecurityContext, podId));
        var id = NewId();
        var rollback = new Rollback(_logger);
        try
        {
            var name = ContainerName(metadata, sandbox.Config.Metadata);
            ReserveName(name, id, "container");
            rollback.Push("release name", () => _reservedNames.TryRemove(name, out _));

            var persistent = _containerStore.PathOf(id);
            var upper = Path.Combine(persistent, "upper");
            var work = Path.Combine(persistent, "work");
            Directory.CreateDirectory(upper);
            Directory.CreateDirectory(work);
            rollback.Push("delete container directory", () => _containerStore.Delete(id));

            var bundle = BundleDirectory(id);
            var rootfs = Path.Combine(bundle, ContainerSpecBuilder.RootfsDirectory);
            Directory.CreateDirectory(rootfs);
            rollback.Push("delete bundle", () => DeleteTree(bundle));
            if (image.LayerDirectories.Count == 0)
            {
                throw new InvalidArgumentException($"image {image.Reference} has no layers");
            }
            using var mountSpan = RuntimeSpans.Start("container.rootfs.mount", id);
            if (userNamespace is not null)
            {
                IdmappedRootfs.Mount(_mounter, image.LayerDirectories, upper, work, rootfs, Path.Combine(bundle, "layers"),
                    sandbox.Record.UserNamespace ?? throw new FailedPreconditionException($"pod sandbox {podId} has no pinned user namespace"),
                    userNamespace.RootOnHost);
            }
            else
            {
                _mounter.MountOverlay(image.LayerDirectories, upper, work, rootfs);
            }
            mountSpan?.Dispose();
            rollback.Push("unmount rootfs", () => _mounter.Unmount(rootfs));

            using var specSpan = RuntimeSpans.Start("container.spec", id);
            var user = UserResolver.Resolve(rootfs, config.Linux?.SecurityContext, image.User);
            var localhostProfile = await LoadLocalhostSeccompAsync(config.Linux?.SecurityContext?.Seccomp, cancellationToken).ConfigureAwait(false);
            var imageVolumeSources = ImageVolumes.Mount(_mounter, bundle, config, imageVolumes, rollback);
            var spec = ContainerSpecBuilder.Build(new ContainerSpecInput(id, config, sandbox.Config, sandbox.Record, image, user, localhostProfile,
                imageVolumeSources, PidNamespaceToJoin(podId, sandbox, config), securityLabels, userNamespace));
            CreateMountSources(spec);
            AtomicFile.ReplaceVolatile(Path.Combine(bundle, "config.json"), JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));
            specSpan?.Dispose();

            var logPath = string.IsNullOrEmpty(sandboxConfig.LogDirectory) || string.IsNullOrEmpty(config.LogPath)
                ? null
                : Path.Combine(sandboxConfig.LogDirectory, config.LogPath);
            var record = new ContainerRecord(id, podId, DateTimeOffset.UtcNow, StartedAt: null, image.Id, image.Reference,
                logPath, bundle, image.StopSignal, user, imageVolumes.Count > 0 ? imageVolumes.Values.Select(v => v.Id).Distinct().ToList() : null);
            // The metadata's fsyncs wait for the disk while the runtime creates the container
            // (each costs milliseconds on a busy disk); the record appears only once it exists.
            var stagedRecord = Task.Run(() => _containerStore.StageSave(id, record, config), CancellationToken.None);
            rollback.Push("discard staged record", async () => (await stagedRecord.ConfigureAwait(false)).Dispose());

            var io = new OciRuntime.MonitorIo(config.Stdin, config.StdinOnce);
            using var createSpan = RuntimeSpans.Start("runtime.create", id);
            // The pod's RuntimeClass handler runs every one of its containers.
            await (_runtime is Handlers.RuntimeHandlerSet handlers
                ? handlers.CreateAsync(sandbox.Record.RuntimeHandler, id, bundle, logPath, io, cancellationToken)
                : _runtime.CreateAsync(id, bundle, logPath, io, cancellationToken)).ConfigureAwait(false);
            createSpan?.Dispose();
            rollback.Push("delete runtime container", () => _runtime.DeleteAsync(id, CancellationToken.None));

            using (var staged = await stagedRecord.ConfigureAwait(false))
            {
                staged.Commit();
            }
            _containers[id] = new ContainerEntry(record, config);
            rollback.Commit();
            Log.ContainerCreated(_logger, id, podId);
            Announce(id, podId, ContainerEventType.ContainerCreatedEvent);
            return id;
        }
        catch
        {
            await rollback.RunAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A Localhost seccomp profile: a JSON file on the node (Docker's and the OCI format agree on the fields used).</summary>
    private static async Task<SeccompSpec?> LoadLocalhostSeccompAsync(SecurityProfile? profile, CancellationToken cancellationToken)
    {
        if (profile is not { ProfileType: SecurityProfile.Types.ProfileType.Localhost })
        {
            return null;
        }
        var path = profile.LocalhostRef;
        if (!Path.IsPathRooted(path))
        {
            throw new InvalidArgumentException($"seccomp: Localhost profile path must be absolute: {path}");
        }
        try
        {
            var seccomp = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), OciJsonContext.Default.SeccompSpec)
                ?? throw new InvalidArgumentException($"seccomp: Localhost profile {path} is empty");
            OciRuntime.Seccomp.SeccompFilter.Validate(seccomp);
            return seccomp;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidArgumentException($"seccomp: Localhost profile {path} does not exist");
        }
        catch (JsonException exception)
        {
            throw new InvalidArgumentException($"seccomp: Localhost profile {path} does not parse: {exception.Message}");
        }
    }

    /// <summary>A host path that does not exist yet is created as a directory, as containerd and Docker do.</summary>
    private static void CreateMountSources(RuntimeSpec spec)
    {
        foreach (var mount in spec.Mounts ?? [])
        {
            if (mount.Type == "bind" && mount.Source is { } source && !Path.Exists(source))
            {
                Directory.CreateDirectory(source);
            }
        }
    }
}
