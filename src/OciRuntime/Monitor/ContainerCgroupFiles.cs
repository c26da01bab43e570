using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The cgroup files the monitor reads once its container exited, found by `crioci-runtime monitor`
/// (which knows the hierarchy) and handed to crioci-monitor (which need not).
/// </summary>
/// <param name="OomEvents">memory.events (v2) or memory.oom_control (v1): its oom_kill count.</param>
/// <param name="Procs">cgroup.procs: the processes left when the init is gone.</param>
internal sealed record ContainerCgroupFiles(string? OomEvents, string? Procs)
{
    public static ContainerCgroupFiles Find(string? cgroupPath)
    {
        if (cgroupPath is null)
        {
            return new ContainerCgroupFiles(null, null);
        }
        string? oomEvents = null;
        string? procs = null;
        foreach (var (mount, directory) in new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).Directories)
        {
            var events = mount.IsV2 ? Path.Combine(directory, "memory.events")
                : mount.Controllers.Contains("memory") ? Path.Combine(directory, "memory.oom_control") : null;
            if (oomEvents is null && events is not null && File.Exists(events))
            {
                oomEvents = events;
            }
            var processes = Path.Combine(directory, "cgroup.procs");
            if (procs is null && File.Exists(processes))
            {
                procs = processes;
            }
        }
        return new ContainerCgroupFiles(oomEvents, procs);
    }

    /// <summary>
    /// The cgroup's OOM killer struck during the container's life: Kubernetes reports OOMKilled
    /// then, whichever of its processes died (containerd does the same).
    /// </summary>
    public bool WasOomKilled()
    {
        const string key = "oom_kill ";
        var text = OomEvents is null ? null : ReadSmallFile(OomEvents);
        if (text is null)
        {
            return false;
        }
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(key.AsSpan()) && ParseNumber(line[key.Length..]) is > 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// In a shared (pod, target or host) PID namespace the init's exit kills nothing else: the
    /// container's other processes would live on, re-parented to the namespace's reaper. They
    /// are the container's, so they go with it (runc kills the cgroup's processes the same way).
    /// </summary>
    public void KillProcesses()
    {
        var text = Procs is null ? null : ReadSmallFile(Procs);
        if (text is null)
        {
            return; // The cgroup is gone already: so are its processes.
        }
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (ParseNumber(line) is { } pid and > 0)
            {
                LibC.kill((int)pid, Signals.SIGKILL);
            }
        }
    }

    /// <summary>Kept short for crioci-monitor's sake (see <see cref="MonitorSession.ToString"/>).</summary>
    public override string ToString() => $"cgroup files {OomEvents} {Procs}";

    /// <summary>Decimal digits only; null for anything else.</summary>
    internal static long? ParseNumber(ReadOnlySpan<char> text)
    {
        if (text.Length is 0 or > 18)
        {
            return null;
        }
        long value = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return null;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /// <summary>A kernel file of ASCII lines; null when it cannot be read.</summary>
    private static unsafe string? ReadSmallFile(string path)
    {
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            var buffer = new byte[4096];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                nint read;
                fixed (byte* pointer = buffer)
                {
                    read = LibC.read(fd, pointer + length, (nuint)(buffer.Length - length));
                }
                if (read < 0)
                {
                    return null;
                }
                if (read == 0)
                {
                    break;
                }
                length += (int)read;
            }
            var text = new char[length];
            for (var i = 0; i < length; i++)
            {
                text[i] = (char)buffer[i];
            }
            return new string(text);
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
