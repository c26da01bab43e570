using System.Text.Json;
using static CriOci.OciRuntime.Spec.SpecJsonValues;

namespace CriOci.OciRuntime.Spec;

/// <summary>config.json's linux.resources (config-linux.md "Control groups").</summary>
internal static partial class RuntimeSpecReader
{
    private static ResourcesSpec? Resources(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(ResourcesSpec)))
        {
            return null;
        }
        IReadOnlyList<DeviceCgroupSpec>? devices = null;
        MemorySpec? memory = null;
        CpuSpec? cpu = null;
        PidsSpec? pids = null;
        IReadOnlyList<HugepageLimitSpec>? hugepageLimits = null;
        IReadOnlyDictionary<string, string>? unified = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "devices"u8)) { devices = List<DeviceCgroupSpec>(ref reader, DeviceCgroup); }
            else if (Is(ref reader, "memory"u8)) { memory = Memory(ref reader); }
            else if (Is(ref reader, "cpu"u8)) { cpu = Cpu(ref reader); }
            else if (Is(ref reader, "pids"u8)) { pids = Pids(ref reader); }
            else if (Is(ref reader, "hugepageLimits"u8)) { hugepageLimits = List<HugepageLimitSpec>(ref reader, HugepageLimit); }
            else if (Is(ref reader, "unified"u8)) { unified = StringMap(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new ResourcesSpec { Devices = devices, Memory = memory, Cpu = cpu, Pids = pids, HugepageLimits = hugepageLimits, Unified = unified };
    }

    private static DeviceCgroupSpec? DeviceCgroup(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(DeviceCgroupSpec)))
        {
            return null;
        }
        var allow = false;
        string? type = null, access = null;
        long? major = null, minor = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "allow"u8)) { allow = Bool(ref reader); }
            else if (Is(ref reader, "type"u8)) { type = String(ref reader); }
            else if (Is(ref reader, "major"u8)) { major = NullableInt64(ref reader); }
            else if (Is(ref reader, "minor"u8)) { minor = NullableInt64(ref reader); }
            else if (Is(ref reader, "access"u8)) { access = String(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new DeviceCgroupSpec { Allow = allow, Type = type, Major = major, Minor = minor, Access = access };
    }

    private static MemorySpec? Memory(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(MemorySpec)))
        {
            return null;
        }
        long? limit = null, reservation = null, swap = null;
        ulong? swappiness = null;
        bool? disableOomKiller = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "limit"u8)) { limit = NullableInt64(ref reader); }
            else if (Is(ref reader, "reservation"u8)) { reservation = NullableInt64(ref reader); }
            else if (Is(ref reader, "swap"u8)) { swap = NullableInt64(ref reader); }
            else if (Is(ref reader, "swappiness"u8)) { swappiness = NullableUInt64(ref reader); }
            else if (Is(ref reader, "disableOOMKiller"u8)) { disableOomKiller = NullableBool(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new MemorySpec { Limit = limit, Reservation = reservation, Swap = swap, Swappiness = swappiness, DisableOOMKiller = disableOomKiller };
    }

    private static CpuSpec? Cpu(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(CpuSpec)))
        {
            return null;
        }
        ulong? shares = null, period = null, realtimePeriod = null;
        long? quota = null, realtimeRuntime = null;
        string? cpus = null, mems = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "shares"u8)) { shares = NullableUInt64(ref reader); }
            else if (Is(ref reader, "quota"u8)) { quota = NullableInt64(ref reader); }
            else if (Is(ref reader, "period"u8)) { period = NullableUInt64(ref reader); }
            else if (Is(ref reader, "realtimeRuntime"u8)) { realtimeRuntime = NullableInt64(ref reader); }
            else if (Is(ref reader, "realtimePeriod"u8)) { realtimePeriod = NullableUInt64(ref reader); }
            else if (Is(ref reader, "cpus"u8)) { cpus = String(ref reader); }
            else if (Is(ref reader, "mems"u8)) { mems = String(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new CpuSpec
        {
            Shares = shares, Quota = quota, Period = period, RealtimeRuntime = realtimeRuntime,
            RealtimePeriod = realtimePeriod, Cpus = cpus, Mems = mems,
        };
    }

    private static PidsSpec? Pids(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(PidsSpec)))
        {
            return null;
        }
        long limit = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "limit"u8)) { limit = Int64(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new PidsSpec { Limit = limit };
    }

    private static HugepageLimitSpec? HugepageLimit(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(HugepageLimitSpec)))
        {
            return null;
        }
        string? pageSize = null;
        var hasPageSize = false;
        ulong limit = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "pageSize"u8)) { pageSize = String(ref reader); hasPageSize = true; }
            else if (Is(ref reader, "limit"u8)) { limit = UInt64(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasPageSize, nameof(HugepageLimitSpec), "pageSize");
        return new HugepageLimitSpec { PageSize = pageSize!, Limit = limit };
    }
}
