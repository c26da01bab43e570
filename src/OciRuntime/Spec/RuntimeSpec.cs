namespace CriOci.OciRuntime.Spec;

// The OCI runtime-spec config.json (config.md, config-linux.md), as records. Property names
// become camelCase through OciJsonContext, which matches the spec's JSON names.

public sealed record RuntimeSpec
{
    public string OciVersion { get; init; } = SpecDefaults.OciVersion;
    public ProcessSpec? Process { get; init; }
    public RootSpec? Root { get; init; }
    public string? Hostname { get; init; }
    public string? Domainname { get; init; }
    public IReadOnlyList<MountSpec>? Mounts { get; init; }
    public HooksSpec? Hooks { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    public LinuxSpec? Linux { get; init; }
}

public sealed record RootSpec
{
    public required string Path { get; init; }
    public bool Readonly { get; init; }
}

public sealed record ProcessSpec
{
    public bool Terminal { get; init; }
    public ConsoleSizeSpec? ConsoleSize { get; init; }
    public required UserSpec User { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public required string Cwd { get; init; }
    public CapabilitiesSpec? Capabilities { get; init; }
    public IReadOnlyList<RlimitSpec>? Rlimits { get; init; }
    public bool NoNewPrivileges { get; init; }
    public int? OomScoreAdj { get; init; }
    public string? ApparmorProfile { get; init; }
    public string? SelinuxLabel { get; init; }
    public SchedulerSpec? Scheduler { get; init; }
    public IoPrioritySpec? IoPriority { get; init; }
}

/// <summary>process.scheduler: sched_setattr(2)'s fields by their spec names (config.md).</summary>
public sealed record SchedulerSpec
{
    public required string Policy { get; init; }
    public int Nice { get; init; }
    public int Priority { get; init; }
    public IReadOnlyList<string>? Flags { get; init; }
    public ulong Runtime { get; init; }
    public ulong Deadline { get; init; }
    public ulong Period { get; init; }
}

/// <summary>process.ioPriority: an ioprio_set(2) class (IOPRIO_CLASS_RT, _BE, _IDLE) and level 0-7.</summary>
public sealed record IoPrioritySpec
{
    public required string Class { get; init; }
    public int Priority { get; init; }
}

/// <summary>process.consoleSize: the terminal's size in characters (only with terminal).</summary>
public sealed record ConsoleSizeSpec
{
    public uint Height { get; init; }
    public uint Width { get; init; }
}

public sealed record UserSpec
{
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint? Umask { get; init; }
    public IReadOnlyList<uint>? AdditionalGids { get; init; }
}

public sealed record CapabilitiesSpec
{
    public IReadOnlyList<string>? Bounding { get; init; }
    public IReadOnlyList<string>? Effective { get; init; }
    public IReadOnlyList<string>? Inheritable { get; init; }
    public IReadOnlyList<string>? Permitted { get; init; }
    public IReadOnlyList<string>? Ambient { get; init; }
}

public sealed record RlimitSpec
{
    public required string Type { get; init; }
    public ulong Hard { get; init; }
    public ulong Soft { get; init; }
}

public sealed record MountSpec
{
    public required string Destination { get; init; }
    public string? Type { get; init; }
    public string? Source { get; init; }
    public IReadOnlyList<string>? Options { get; init; }

    /// <summary>runtime-spec 1.1 id-mapped mounts: on-disk ids (containerID) shown as hostID, with "idmap" or "ridmap".</summary>
    public IReadOnlyList<IdMappingSpec>? UidMappings { get; init; }

    public IReadOnlyList<IdMappingSpec>? GidMappings { get; init; }
}

public sealed record HooksSpec
{
    public IReadOnlyList<HookSpec>? Prestart { get; init; }
    public IReadOnlyList<HookSpec>? CreateRuntime { get; init; }
    public IReadOnlyList<HookSpec>? CreateContainer { get; init; }
    public IReadOnlyList<HookSpec>? StartContainer { get; init; }
    public IReadOnlyList<HookSpec>? Poststart { get; init; }
    public IReadOnlyList<HookSpec>? Poststop { get; init; }
}

public sealed record HookSpec
{
    public required string Path { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public int? Timeout { get; init; }
}

public sealed record LinuxSpec
{
    public IReadOnlyList<NamespaceSpec>? Namespaces { get; init; }
    public IReadOnlyList<IdMappingSpec>? UidMappings { get; init; }
    public IReadOnlyList<IdMappingSpec>? GidMappings { get; init; }
    public IReadOnlyList<DeviceSpec>? Devices { get; init; }
    public string? CgroupsPath { get; init; }
    public ResourcesSpec? Resources { get; init; }
    public IReadOnlyDictionary<string, string>? Sysctl { get; init; }
    public string? RootfsPropagation { get; init; }
    public IReadOnlyList<string>? MaskedPaths { get; init; }
    public IReadOnlyList<string>? ReadonlyPaths { get; init; }
    public string? MountLabel { get; init; }
    public SeccompSpec? Seccomp { get; init; }
    public PersonalitySpec? Personality { get; init; }
    public IReadOnlyDictionary<string, TimeOffsetSpec>? TimeOffsets { get; init; }
}

/// <summary>linux.personality: the execution domain (LINUX, LINUX32) for personality(2).</summary>
public sealed record PersonalitySpec
{
    public required string Domain { get; init; }
    public IReadOnlyList<string>? Flags { get; init; }
}

/// <summary>One clock's entry of linux.timeOffsets (keys "monotonic" and "boottime").</summary>
public sealed record TimeOffsetSpec
{
    public long Secs { get; init; }
    public uint Nanosecs { get; init; }
}

public sealed record SeccompSpec
{
    public required string DefaultAction { get; init; }
    public uint? DefaultErrnoRet { get; init; }
    public IReadOnlyList<string>? Architectures { get; init; }
    public IReadOnlyList<string>? Flags { get; init; }
    public string? ListenerPath { get; init; }
    public IReadOnlyList<SeccompSyscallSpec>? Syscalls { get; init; }
}

public sealed record SeccompSyscallSpec
{
    public required IReadOnlyList<string> Names { get; init; }
    public required string Action { get; init; }
    public uint? ErrnoRet { get; init; }
    public IReadOnlyList<SeccompArgSpec>? Args { get; init; }
}

public sealed record SeccompArgSpec
{
    public uint Index { get; init; }
    public ulong Value { get; init; }
    public ulong ValueTwo { get; init; }
    public required string Op { get; init; }
}

public sealed record NamespaceSpec
{
    public required string Type { get; init; }
    public string? Path { get; init; }
}

public sealed record IdMappingSpec
{
    [System.Text.Json.Serialization.JsonPropertyName("containerID")]
    public uint ContainerId { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("hostID")]
    public uint HostId { get; init; }

    public uint Size { get; init; }
}

public sealed record DeviceSpec
{
    public required string Type { get; init; }
    public required string Path { get; init; }
    public long Major { get; init; }
    public long Minor { get; init; }
    public uint? FileMode { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }
}

public sealed record ResourcesSpec
{
    public IReadOnlyList<DeviceCgroupSpec>? Devices { get; init; }
    public MemorySpec? Memory { get; init; }
    public CpuSpec? Cpu { get; init; }
    public PidsSpec? Pids { get; init; }
    public IReadOnlyList<HugepageLimitSpec>? HugepageLimits { get; init; }
    public IReadOnlyDictionary<string, string>? Unified { get; init; }
}

public sealed record DeviceCgroupSpec
{
    public bool Allow { get; init; }
    public string? Type { get; init; }
    public long? Major { get; init; }
    public long? Minor { get; init; }
    public string? Access { get; init; }
}

public sealed record MemorySpec
{
    public long? Limit { get; init; }
    public long? Reservation { get; init; }
    public long? Swap { get; init; }
    public ulong? Swappiness { get; init; }
    public bool? DisableOOMKiller { get; init; }
}

public sealed record CpuSpec
{
    public ulong? Shares { get; init; }
    public long? Quota { get; init; }
    public ulong? Period { get; init; }
    public long? RealtimeRuntime { get; init; }
    public ulong? RealtimePeriod { get; init; }
    public string? Cpus { get; init; }
    public string? Mems { get; init; }
}

public sealed record PidsSpec
{
    public long Limit { get; init; }
}

public sealed record HugepageLimitSpec
{
    public required string PageSize { get; init; }
    public ulong Limit { get; init; }
}
