using System.Text.Json;
using static CriOci.OciRuntime.Spec.SpecJsonValues;

namespace CriOci.OciRuntime.Spec;

/// <summary>config.json's linux object (config-linux.md), but for its resources and seccomp.</summary>
internal static partial class RuntimeSpecReader
{
    private static LinuxSpec? Linux(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(LinuxSpec)))
        {
            return null;
        }
        IReadOnlyList<NamespaceSpec>? namespaces = null;
        IReadOnlyList<IdMappingSpec>? uidMappings = null, gidMappings = null;
        IReadOnlyList<DeviceSpec>? devices = null;
        string? cgroupsPath = null, rootfsPropagation = null, mountLabel = null;
        ResourcesSpec? resources = null;
        IReadOnlyDictionary<string, string>? sysctl = null;
        IReadOnlyList<string>? maskedPaths = null, readonlyPaths = null;
        SeccompSpec? seccomp = null;
        PersonalitySpec? personality = null;
        IReadOnlyDictionary<string, TimeOffsetSpec>? timeOffsets = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "namespaces"u8)) { namespaces = List<NamespaceSpec>(ref reader, Namespace); }
            else if (Is(ref reader, "uidMappings"u8)) { uidMappings = List<IdMappingSpec>(ref reader, IdMapping); }
            else if (Is(ref reader, "gidMappings"u8)) { gidMappings = List<IdMappingSpec>(ref reader, IdMapping); }
            else if (Is(ref reader, "devices"u8)) { devices = List<DeviceSpec>(ref reader, Device); }
            else if (Is(ref reader, "cgroupsPath"u8)) { cgroupsPath = String(ref reader); }
            else if (Is(ref reader, "resources"u8)) { resources = Resources(ref reader); }
            else if (Is(ref reader, "sysctl"u8)) { sysctl = StringMap(ref reader); }
            else if (Is(ref reader, "rootfsPropagation"u8)) { rootfsPropagation = String(ref reader); }
            else if (Is(ref reader, "maskedPaths"u8)) { maskedPaths = Strings(ref reader); }
            else if (Is(ref reader, "readonlyPaths"u8)) { readonlyPaths = Strings(ref reader); }
            else if (Is(ref reader, "mountLabel"u8)) { mountLabel = String(ref reader); }
            else if (Is(ref reader, "seccomp"u8)) { seccomp = Seccomp(ref reader); }
            else if (Is(ref reader, "personality"u8)) { personality = Personality(ref reader); }
            else if (Is(ref reader, "timeOffsets"u8)) { timeOffsets = Map<TimeOffsetSpec>(ref reader, TimeOffset); }
            else { SkipValue(ref reader); }
        }
        return new LinuxSpec
        {
            Namespaces = namespaces, UidMappings = uidMappings, GidMappings = gidMappings, Devices = devices,
            CgroupsPath = cgroupsPath, Resources = resources, Sysctl = sysctl, RootfsPropagation = rootfsPropagation,
            MaskedPaths = maskedPaths, ReadonlyPaths = readonlyPaths, MountLabel = mountLabel, Seccomp = seccomp,
            Personality = personality, TimeOffsets = timeOffsets,
        };
    }

    private static NamespaceSpec? Namespace(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(NamespaceSpec)))
        {
            return null;
        }
        string? type = null, path = null;
        var hasType = false;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "type"u8)) { type = String(ref reader); hasType = true; }
            else if (Is(ref reader, "path"u8)) { path = String(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasType, nameof(NamespaceSpec), "type");
        return new NamespaceSpec { Type = type!, Path = path };
    }

    private static IdMappingSpec? IdMapping(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(IdMappingSpec)))
        {
            return null;
        }
        uint containerId = 0, hostId = 0, size = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "containerID"u8)) { containerId = UInt32(ref reader); }
            else if (Is(ref reader, "hostID"u8)) { hostId = UInt32(ref reader); }
            else if (Is(ref reader, "size"u8)) { size = UInt32(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new IdMappingSpec { ContainerId = containerId, HostId = hostId, Size = size };
    }

    private static DeviceSpec? Device(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(DeviceSpec)))
        {
            return null;
        }
        string? type = null, path = null;
        bool hasType = false, hasPath = false;
        long major = 0, minor = 0;
        uint? fileMode = null, uid = null, gid = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "type"u8)) { type = String(ref reader); hasType = true; }
            else if (Is(ref reader, "path"u8)) { path = String(ref reader); hasPath = true; }
            else if (Is(ref reader, "major"u8)) { major = Int64(ref reader); }
            else if (Is(ref reader, "minor"u8)) { minor = Int64(ref reader); }
            else if (Is(ref reader, "fileMode"u8)) { fileMode = NullableUInt32(ref reader); }
            else if (Is(ref reader, "uid"u8)) { uid = NullableUInt32(ref reader); }
            else if (Is(ref reader, "gid"u8)) { gid = NullableUInt32(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasType, nameof(DeviceSpec), "type");
        Require(ref reader, hasPath, nameof(DeviceSpec), "path");
        return new DeviceSpec { Type = type!, Path = path!, Major = major, Minor = minor, FileMode = fileMode, Uid = uid, Gid = gid };
    }

    private static PersonalitySpec? Personality(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(PersonalitySpec)))
        {
            return null;
        }
        string? domain = null;
        var hasDomain = false;
        IReadOnlyList<string>? flags = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "domain"u8)) { domain = String(ref reader); hasDomain = true; }
            else if (Is(ref reader, "flags"u8)) { flags = Strings(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasDomain, nameof(PersonalitySpec), "domain");
        return new PersonalitySpec { Domain = domain!, Flags = flags };
    }

    private static TimeOffsetSpec? TimeOffset(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(TimeOffsetSpec)))
        {
            return null;
        }
        long secs = 0;
        uint nanosecs = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "secs"u8)) { secs = Int64(ref reader); }
            else if (Is(ref reader, "nanosecs"u8)) { nanosecs = UInt32(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new TimeOffsetSpec { Secs = secs, Nanosecs = nanosecs };
    }

    private static SeccompSpec? Seccomp(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(SeccompSpec)))
        {
            return null;
        }
        string? defaultAction = null, listenerPath = null;
        var hasDefaultAction = false;
        uint? defaultErrnoRet = null;
        IReadOnlyList<string>? architectures = null, flags = null;
        IReadOnlyList<SeccompSyscallSpec>? syscalls = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "defaultAction"u8)) { defaultAction = String(ref reader); hasDefaultAction = true; }
            else if (Is(ref reader, "defaultErrnoRet"u8)) { defaultErrnoRet = NullableUInt32(ref reader); }
            else if (Is(ref reader, "architectures"u8)) { architectures = Strings(ref reader); }
            else if (Is(ref reader, "flags"u8)) { flags = Strings(ref reader); }
            else if (Is(ref reader, "listenerPath"u8)) { listenerPath = String(ref reader); }
            else if (Is(ref reader, "syscalls"u8)) { syscalls = List<SeccompSyscallSpec>(ref reader, SeccompSyscall); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasDefaultAction, nameof(SeccompSpec), "defaultAction");
        return new SeccompSpec
        {
            DefaultAction = defaultAction!, DefaultErrnoRet = defaultErrnoRet, Architectures = architectures,
            Flags = flags, ListenerPath = listenerPath, Syscalls = syscalls,
        };
    }

    private static SeccompSyscallSpec? SeccompSyscall(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(SeccompSyscallSpec)))
        {
            return null;
        }
        IReadOnlyList<string>? names = null;
        string? action = null;
        bool hasNames = false, hasAction = false;
        uint? errnoRet = null;
        IReadOnlyList<SeccompArgSpec>? args = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "names"u8)) { names = Strings(ref reader); hasNames = true; }
            else if (Is(ref reader, "action"u8)) { action = String(ref reader); hasAction = true; }
            else if (Is(ref reader, "errnoRet"u8)) { errnoRet = NullableUInt32(ref reader); }
            else if (Is(ref reader, "args"u8)) { args = List<SeccompArgSpec>(ref reader, SeccompArg); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasNames, nameof(SeccompSyscallSpec), "names");
        Require(ref reader, hasAction, nameof(SeccompSyscallSpec), "action");
        return new SeccompSyscallSpec { Names = names!, Action = action!, ErrnoRet = errnoRet, Args = args };
    }

    private static SeccompArgSpec? SeccompArg(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(SeccompArgSpec)))
        {
            return null;
        }
        uint index = 0;
        ulong value = 0, valueTwo = 0;
        string? op = null;
        var hasOp = false;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "index"u8)) { index = UInt32(ref reader); }
            else if (Is(ref reader, "value"u8)) { value = UInt64(ref reader); }
            else if (Is(ref reader, "valueTwo"u8)) { valueTwo = UInt64(ref reader); }
            else if (Is(ref reader, "op"u8)) { op = String(ref reader); hasOp = true; }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasOp, nameof(SeccompArgSpec), "op");
        return new SeccompArgSpec { Index = index, Value = value, ValueTwo = valueTwo, Op = op! };
    }
}
