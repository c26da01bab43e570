using System.Globalization;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>
/// One container's cgroup on every mounted hierarchy (cgroupfs driver): a directory per v1
/// hierarchy and, when a cgroup2 mount exists, one there too (hybrid hosts put hugetlb or
/// nothing at all on it, but the process is placed there as runc does).
/// </summary>
public sealed class CgroupManager
{
    private static readonly string[] V2Controllers = ["cpu", "cpuset", "memory", "pids", "io", "hugetlb"];

    private readonly CgroupHierarchy _hierarchy;

    public CgroupManager(CgroupHierarchy hierarchy, string cgroupPath)
    {
        if (!cgroupPath.StartsWith('/') || cgroupPath.Split('/').Any(part => part is ".." or "."))
        {
            throw new Core.InvalidArgumentException($"linux.cgroupsPath must be absolute and plain: {cgroupPath}");
        }
        _hierarchy = hierarchy;
        CgroupPath = cgroupPath.TrimEnd('/');
    }

    public string CgroupPath { get; }

    /// <summary>The cgroup's directory on each hierarchy.</summary>
    public IEnumerable<(CgroupMount Mount, string Directory)> Directories =>
        _hierarchy.Mounts.Select(m => (m, m.MountPoint + CgroupPath));

    /// <summary>The container's cgroup path: its own, or /crioci/ID when config.json names none.</summary>
    public static string PathFor(RuntimeSpec spec, string id) =>
        string.IsNullOrEmpty(spec.Linux?.CgroupsPath) ? $"/crioci/{id}"
        : spec.Linux.CgroupsPath.StartsWith('/') ? spec.Linux.CgroupsPath
        : "/" + spec.Linux.CgroupsPath;

    /// <summary>Creates the directories and applies <paramref name="resources"/>.</summary>
    public void Create(ResourcesSpec? resources)
    {
        foreach (var (mount, directory) in Directories)
        {
            // On a hybrid host the v2 tree only carries the controllers the boot gave it
            // (hugetlb here); delegating them down our path keeps them busy, which stops
            // other runtimes (crun) from moving them to v1, so do it only when a limit needs it.
            if (mount.IsV2 && (_hierarchy.Mode == CgroupMode.Unified || resources?.HugepageLimits is { Count: > 0 }))
            {
                EnableV2Controllers(mount.MountPoint);
            }
            Directory.CreateDirectory(directory);
            if (mount.Controllers.Contains("cpuset"))
            {
                InheritCpuset(mount.MountPoint);
            }
        }
        Update(resources);
    }

    public void Update(ResourcesSpec? resources)
    {
        var hugetlbOnV1 = _hierarchy.V1.Any(m => m.Controllers.Contains("hugetlb"));
        if (_hierarchy.Mode != CgroupMode.Unified)
        {
            // Without a v1 devices controller, a hybrid host's cgroup2 tree still runs device programs.
            var devicesByProgram = !_hierarchy.V1.Any(m => m.Controllers.Contains("devices")) && _hierarchy.V2 is not null;
            var writes = ResourceFiles.ForV1(resources, hugetlbOnV1).Where(w => !devicesByProgram || w.Controller != "devices").ToList();
            WriteV1Memory(writes.Where(w => w.Controller == "memory" && w.File is "memory.memsw.limit_in_bytes" or "memory.limit_in_bytes").ToList());
            WriteV1Realtime(writes.Where(w => w.File is ResourceFiles.RealtimePeriodFile or ResourceFiles.RealtimeRuntimeFile).ToList());
            foreach (var write in writes.Where(w => w.File is not ("memory.memsw.limit_in_bytes" or "memory.limit_in_bytes"
                or ResourceFiles.RealtimePeriodFile or ResourceFiles.RealtimeRuntimeFile)))
            {
                WriteV1(write);
            }
            if (!hugetlbOnV1 && _hierarchy.V2 is { } v2 && resources?.HugepageLimits is { Count: > 0 })
            {
                foreach (var write in ResourceFiles.ForV2(resources, hugetlbOnly: true))
                {
                    WriteFile(v2.MountPoint + CgroupPath, write);
                }
            }
            if (devicesByProgram && resources?.Devices is { Count: > 0 } v1Devices)
            {
                DeviceFilterAttachment.Apply(_hierarchy.V2!.MountPoint + CgroupPath, v1Devices);
            }
            return;
        }
        foreach (var write in ResourceFiles.ForV2(resources))
        {
            WriteFile(_hierarchy.V2!.MountPoint + CgroupPath, write);
        }
        // cgroup v2 has no devices.allow: the rules become an eBPF program on the cgroup. On a
        // hybrid host the v1 devices controller enforces them (ForV1) when it is mounted.
        if (resources?.Devices is { Count: > 0 } devices)
        {
            DeviceFilterAttachment.Apply(_hierarchy.V2!.MountPoint + CgroupPath, devices);
        }
    }

    /// <summary>Where a new process starts to be in this cgroup (<see cref="Linux.SpawnRequest.Cgroup"/>).</summary>
    public Linux.CgroupPlacement Placement => new(
        Directories.Where(d => !d.Mount.IsV2).Select(d => d.Directory).ToList(),
        Directories.Where(d => d.Mount.IsV2).Select(d => d.Directory).FirstOrDefault());

    /// <summary>Moves <paramref name="pid"/> (0: the caller) into the cgroup on every hierarchy.</summary>
    public void AddProcess(int pid) => Placement.MoveProcess(pid);

    /// <summary>How many times the kernel's OOM killer struck in this cgroup.</summary>
    public long OomKillCount()
    {
        foreach (var (mount, directory) in Directories)
        {
            var file = mount.IsV2 ? Path.Combine(directory, "memory.events")
                : mount.Controllers.Contains("memory") ? Path.Combine(directory, "memory.oom_control") : null;
            if (file is null || !File.Exists(file))
            {
                continue;
            }
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    return count;
                }
            }
        }
        return 0;
    }

    /// <summary>Freezes (pause) or thaws (resume) every process of the cgroup and waits until the kernel reports it done.</summary>
    public void SetFrozen(bool frozen)
    {
        var (file, value, done) = FreezerFile(frozen);
        File.WriteAllText(file, value);
        for (var attempt = 0; attempt < 500 && !IsFrozenState(done); attempt++)
        {
            Thread.Sleep(2);
        }
    }

    public bool IsFrozen()
    {
        try
        {
            return IsFrozenState(FreezerFile(true).Done);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private (string File, string Value, Func<bool> Done) FreezerFile(bool frozen)
    {
        if (_hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains("freezer")) is { } freezer)
        {
            var state = Path.Combine(freezer.MountPoint + CgroupPath, "freezer.state");
            return (state, frozen ? "FROZEN" : "THAWED", () => File.ReadAllText(state).Trim() == "FROZEN");
        }
        if (_hierarchy.V2 is { } v2)
        {
            var directory = v2.MountPoint + CgroupPath;
            return (Path.Combine(directory, "cgroup.freeze"), frozen ? "1" : "0",
                () => File.ReadLines(Path.Combine(directory, "cgroup.events")).Contains("frozen 1"));
        }
        throw new Core.FailedPreconditionException("no cgroup freezer is mounted on this host");
    }

    private static bool IsFrozenState(Func<bool> done) => done();

    /// <summary>The PIDs in the cgroup (from the first hierarchy that has the directory).</summary>
    public IReadOnlyList<int> Pids()
    {
        foreach (var (_, directory) in Directories)
        {
            var procs = Path.Combine(directory, "cgroup.procs");
            if (File.Exists(procs))
            {
                return File.ReadAllLines(procs).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();
            }
        }
        return [];
    }

    /// <summary>Removes the directories; processes still inside are killed first. Idempotent.</summary>
    public void Destroy()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var remaining = false;
            foreach (var (_, directory) in Directories)
            {
                if (!Directory.Exists(directory))
                {
                    continue;
                }
                try
                {
                    Directory.Delete(directory); // rmdir(2): control files are not real files
                }
                catch (IOException)
                {
                    remaining = true;
                }
            }
            if (!remaining)
            {
                return;
            }
            foreach (var pid in Pids())
            {
                Linux.Interop.LibC.kill(pid, Linux.Signals.SIGKILL);
            }
            Thread.Sleep(10);
        }
        throw new IOException($"cgroup {CgroupPath} still has processes after SIGKILL");
    }

    private void WriteV1(CgroupWrite write)
    {
        var mount = _hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains(write.Controller))
            ?? throw new Core.InvalidArgumentException($"linux.resources: the {write.Controller} controller is not mounted on this host ({write.File})");
        WriteFile(mount.MountPoint + CgroupPath, write);
    }

    private void WriteV1Memory(IReadOnlyList<CgroupWrite> writes)
    {
        if (writes.Count == 0)
        {
            return;
        }
        var mount = _hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains("memory"))
            ?? throw new Core.InvalidArgumentException("linux.resources.memory: the memory controller is not mounted on this host");
        var directory = mount.MountPoint + CgroupPath;
        var supported = writes.Where(w => w.File != "memory.memsw.limit_in_bytes" || File.Exists(Path.Combine(directory, w.File))).ToList();
        try
        {
            foreach (var write in supported)
            {
                WriteFile(directory, write);
            }
        }
        catch (Core.InvalidArgumentException) when (supported.Count == 2)
        {
            // Shrinking: memory.limit must drop below memsw before memsw may follow it.
            foreach (var write in supported.AsEnumerable().Reverse())
            {
                WriteFile(directory, write);
            }
        }
    }

    /// <summary>
    /// cpu.rt_period_us and cpu.rt_runtime_us (Documentation/scheduler/sched-rt-group.rst): the
    /// kernel checks every single write, so runtime may never exceed period and the group's share
    /// of real-time time must fit in its parent's, next to its siblings'. Written period first,
    /// and in the other order when that is refused (a period shrinking below the old runtime).
    /// </summary>
    private void WriteV1Realtime(IReadOnlyList<CgroupWrite> writes)
    {
        if (writes.Count == 0)
        {
            return;
        }
        var mount = _hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains("cpu"))
            ?? throw new Core.InvalidArgumentException("linux.resources.cpu.realtimeRuntime: the cpu controller is not mounted on this host");
        var directory = mount.MountPoint + CgroupPath;
        if (!File.Exists(Path.Combine(directory, ResourceFiles.RealtimeRuntimeFile)))
        {
            throw new Core.InvalidArgumentException(
                $"linux.resources.cpu.realtimeRuntime and realtimePeriod: this kernel has no real-time group scheduling (built without CONFIG_RT_GROUP_SCHED: {directory} has no {ResourceFiles.RealtimeRuntimeFile})");
        }
        if (TryWriteAll(directory, writes, out var refusal) || (writes.Count == 2 && TryWriteAll(directory, writes.Reverse().ToList(), out _)))
        {
            return;
        }
        var parent = Path.GetDirectoryName(directory)!;
        throw new Core.InvalidArgumentException(
            $"linux.resources.cpu: the kernel refused the real-time budget {string.Join(", ", writes.Select(w => $"{w.File}={w.Value}"))} for cgroup {CgroupPath} ({refusal}). "
            + $"A cgroup's runtime/period must fit in its parent's, shared with its siblings, and new cgroups get none: give the parents a budget first "
            + $"(the parent {parent} has {ResourceFiles.RealtimeRuntimeFile}={ReadValue(parent, ResourceFiles.RealtimeRuntimeFile)} of {ResourceFiles.RealtimePeriodFile}={ReadValue(parent, ResourceFiles.RealtimePeriodFile)})");
    }

    private static bool TryWriteAll(string directory, IReadOnlyList<CgroupWrite> writes, out string refusal)
    {
        try
        {
            foreach (var write in writes)
            {
                WriteFile(directory, write);
            }
            refusal = "";
            return true;
        }
        catch (Core.InvalidArgumentException exception)
        {
            refusal = exception.Message;
            return false;
        }
    }

    private static string ReadValue(string directory, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(directory, file)).Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static void WriteFile(string directory, CgroupWrite write)
    {
        var path = Path.Combine(directory, write.File);
        try
        {
            File.WriteAllText(path, write.Value);
        }
        catch (FileNotFoundException)
        {
            throw new Core.InvalidArgumentException($"linux.resources: {write.File} is not supported by this kernel");
        }
        catch (IOException exception)
        {
            throw new Core.InvalidArgumentException($"linux.resources: cannot write {write.Value} to {path}: {exception.Message}");
        }
    }

    /// <summary>
    /// A new v1 cpuset cgroup starts with empty cpus and mems, and no task may join it then;
    /// each level copies its parent's (runc's cpuset ensureParent).
    /// </summary>
    private void InheritCpuset(string mountPoint)
    {
        var current = mountPoint;
        foreach (var part in CgroupPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var child = Path.Combine(current, part);
            foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
            {
                var childFile = Path.Combine(child, file);
                if (File.Exists(childFile) && File.ReadAllText(childFile).Trim().Length == 0)
                {
                    File.WriteAllText(childFile, File.ReadAllText(Path.Combine(current, file)).Trim());
                }
            }
            current = child;
        }
    }

    /// <summary>cgroup2 only delegates a controller to children listed in the parent's subtree_control.</summary>
    private void EnableV2Controllers(string mountPoint)
    {
        var available = File.Exists(Path.Combine(mountPoint, "cgroup.controllers"))
            ? File.ReadAllText(Path.Combine(mountPoint, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        var wanted = V2Controllers.Intersect(available).ToList();
        if (wanted.Count == 0)
        {
            return;
        }
        var current = mountPoint;
        foreach (var part in CgroupPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            Directory.CreateDirectory(current);
            var control = Path.Combine(current, "cgroup.subtree_control");
            foreach (var controller in wanted)
            {
                try
                {
                    File.WriteAllText(control, "+" + controller);
                }
                catch (IOException)
                {
                    // A controller can be unavailable below this level; the write of a limit
                    // that needs it will say so.
                }
            }
            current = Path.Combine(current, part);
        }
    }
}
