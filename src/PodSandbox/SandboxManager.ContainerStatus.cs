using System.Text;
using System.Text.Json;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime;
using CriOci.OciRuntime.State;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public ContainerStatusResponse ContainerStatus(string containerId, bool verbose)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        if (!_containers.TryGetValue(id, out var container))
        {
            throw new NotFoundException($"container {containerId} not found");
        }
        var runtimeState = _runtime.GetState(id);
        var record = container.Record;
        var status = new Cri.V1.ContainerStatus
        {
            Id = id,
            Metadata = container.Config.Metadata,
            State = ToCriState(runtimeState),
            CreatedAt = record.CreatedAt.ToUnixTimeNanoseconds(),
            // StartContainer saves started_at just before it releases the process.
            StartedAt = runtimeState?.Status is OciRuntime.State.ContainerStatus.Created ? 0 : record.StartedAt?.ToUnixTimeNanoseconds() ?? 0,
            Image = new ImageSpec { Image = record.ImageReference },
            ImageRef = record.ImageId,
            ImageId = record.ImageId,
            LogPath = record.LogPath ?? "",
        };
        if (runtimeState?.Exit is { } exit)
        {
            status.ExitCode = exit.ExitCode;
            status.FinishedAt = exit.FinishedAt.ToUnixTimeNanoseconds();
            status.Reason = exit.OomKilled ? "OOMKilled" : exit.ExitCode == 0 ? "Completed" : "Error";
        }
        else if (runtimeState is null)
        {
            // The runtime lost the container (its state lived on tmpfs across a reboot).
            status.State = ContainerState.ContainerExited;
            status.ExitCode = 255;
            status.Reason = "Unknown";
            status.Message = "the container's runtime state is gone (was the node rebooted?)";
        }
        if (container.Config.Linux?.Resources is { } resources)
        {
            // As applied: UpdateContainerResources stores what it set in the container's config.
            status.Resources = new ContainerResources { Linux = resources };
        }
        if (record.User is { } user)
        {
            status.User = ToCriUser(user);
        }
        status.Labels.Add(container.Config.Labels);
        status.Annotations.Add(container.Config.Annotations);
        foreach (var mount in container.Config.Mounts)
        {
            status.Mounts.Add(mount);
        }
        var response = new ContainerStatusResponse { Status = status };
        if (verbose)
        {
            response.Info["info"] = VerboseInfo(record, runtimeState);
        }
        return response;
    }

    /// <summary>
    /// The process identity as kubelet reports it (KEP-3619): the supplemental groups are every
    /// group the process holds, the primary one first, as `id -G` inside the container prints them.
    /// </summary>
    private static ContainerUser ToCriUser(ResolvedUser user)
    {
        var linux = new LinuxContainerUser { Uid = user.Uid, Gid = user.Gid };
        linux.SupplementalGroups.Add(user.Gid);
        linux.SupplementalGroups.Add(user.AdditionalGids.Where(gid => gid != user.Gid).Select(gid => (long)gid));
        return new ContainerUser { Linux = linux };
    }

    /// <summary>containerd's verbose info shape: pid, sandboxID and the runtime spec as JSON.</summary>
    private static string VerboseInfo(Storage.ContainerRecord record, RuntimeContainerState? state)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("pid", state is { Status: not OciRuntime.State.ContainerStatus.Stopped } ? state.Pid : 0);
            writer.WriteString("sandboxID", record.PodSandboxId);
            writer.WriteString("bundle", record.Bundle);
            var configPath = Path.Combine(record.Bundle, "config.json");
            if (File.Exists(configPath))
            {
                writer.WritePropertyName("runtimeSpec");
                writer.WriteRawValue(File.ReadAllBytes(configPath));
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static ContainerState ToCriState(RuntimeContainerState? state) => state?.Status switch
    {
        OciRuntime.State.ContainerStatus.Created => ContainerState.ContainerCreated,
        OciRuntime.State.ContainerStatus.Running => ContainerState.ContainerRunning,
        OciRuntime.State.ContainerStatus.Stopped => ContainerState.ContainerExited,
        // The runtime lost the container (its state lived on tmpfs across a reboot): its
        // process is certainly gone, so it has exited; ContainerStatus explains why.
        null => ContainerState.ContainerExited,
        _ => ContainerState.ContainerUnknown,
    };

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter)
    {
        var result = new List<Container>();
        foreach (var (id, container) in _containers)
        {
            var state = ToCriState(_runtime.GetState(id));
            if (filter is not null)
            {
                if (filter.Id.Length > 0 && !id.StartsWith(filter.Id, StringComparison.Ordinal))
                {
                    continue;
                }
                if (filter.PodSandboxId.Length > 0 && !container.Record.PodSandboxId.StartsWith(filter.PodSandboxId, StringComparison.Ordinal))
                {
                    continue;
                }
                if (filter.State is not null && filter.State.State != state)
                {
                    continue;
                }
                if (!LabelsMatch(container.Config.Labels, filter.LabelSelector))
                {
                    continue;
                }
            }
            var item = new Container
            {
                Id = id,
                PodSandboxId = container.Record.PodSandboxId,
                Metadata = container.Config.Metadata,
                Image = new ImageSpec { Image = container.Record.ImageReference },
                ImageRef = container.Record.ImageId,
                ImageId = container.Record.ImageId,
                State = state,
                CreatedAt = container.Record.CreatedAt.ToUnixTimeNanoseconds(),
            };
            item.Labels.Add(container.Config.Labels);
            item.Annotations.Add(container.Config.Annotations);
            result.Add(item);
        }
        return result;
    }
}
