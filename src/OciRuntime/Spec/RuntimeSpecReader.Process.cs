using System.Text.Json;
using static CriOci.OciRuntime.Spec.SpecJsonValues;

namespace CriOci.OciRuntime.Spec;

/// <summary>config.json's process, and the parts it is made of (config.md "Process").</summary>
internal static partial class RuntimeSpecReader
{
    private static ProcessSpec? Process(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(ProcessSpec)))
        {
            return null;
        }
        bool terminal = false, noNewPrivileges = false, hasUser = false, hasCwd = false;
        ConsoleSizeSpec? consoleSize = null;
        UserSpec? user = null;
        IReadOnlyList<string>? args = null, env = null;
        string? cwd = null, apparmorProfile = null, selinuxLabel = null;
        CapabilitiesSpec? capabilities = null;
        IReadOnlyList<RlimitSpec>? rlimits = null;
        int? oomScoreAdj = null;
        SchedulerSpec? scheduler = null;
        IoPrioritySpec? ioPriority = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "terminal"u8)) { terminal = Bool(ref reader); }
            else if (Is(ref reader, "consoleSize"u8)) { consoleSize = ConsoleSize(ref reader); }
            else if (Is(ref reader, "user"u8)) { user = User(ref reader); hasUser = true; }
            else if (Is(ref reader, "args"u8)) { args = Strings(ref reader); }
            else if (Is(ref reader, "env"u8)) { env = Strings(ref reader); }
            else if (Is(ref reader, "cwd"u8)) { cwd = String(ref reader); hasCwd = true; }
            else if (Is(ref reader, "capabilities"u8)) { capabilities = Capabilities(ref reader); }
            else if (Is(ref reader, "rlimits"u8)) { rlimits = List<RlimitSpec>(ref reader, Rlimit); }
            else if (Is(ref reader, "noNewPrivileges"u8)) { noNewPrivileges = Bool(ref reader); }
            else if (Is(ref reader, "oomScoreAdj"u8)) { oomScoreAdj = NullableInt32(ref reader); }
            else if (Is(ref reader, "apparmorProfile"u8)) { apparmorProfile = String(ref reader); }
            else if (Is(ref reader, "selinuxLabel"u8)) { selinuxLabel = String(ref reader); }
            else if (Is(ref reader, "scheduler"u8)) { scheduler = Scheduler(ref reader); }
            else if (Is(ref reader, "ioPriority"u8)) { ioPriority = IoPriority(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasUser, nameof(ProcessSpec), "user");
        Require(ref reader, hasCwd, nameof(ProcessSpec), "cwd");
        return new ProcessSpec
        {
            Terminal = terminal, ConsoleSize = consoleSize, User = user!, Args = args, Env = env, Cwd = cwd!,
            Capabilities = capabilities, Rlimits = rlimits, NoNewPrivileges = noNewPrivileges, OomScoreAdj = oomScoreAdj,
            ApparmorProfile = apparmorProfile, SelinuxLabel = selinuxLabel, Scheduler = scheduler, IoPriority = ioPriority,
        };
    }

    private static ConsoleSizeSpec? ConsoleSize(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(ConsoleSizeSpec)))
        {
            return null;
        }
        uint height = 0, width = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "height"u8)) { height = UInt32(ref reader); }
            else if (Is(ref reader, "width"u8)) { width = UInt32(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new ConsoleSizeSpec { Height = height, Width = width };
    }

    private static UserSpec? User(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(UserSpec)))
        {
            return null;
        }
        uint uid = 0, gid = 0;
        uint? umask = null;
        IReadOnlyList<uint>? additionalGids = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "uid"u8)) { uid = UInt32(ref reader); }
            else if (Is(ref reader, "gid"u8)) { gid = UInt32(ref reader); }
            else if (Is(ref reader, "umask"u8)) { umask = NullableUInt32(ref reader); }
            else if (Is(ref reader, "additionalGids"u8)) { additionalGids = UInt32s(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new UserSpec { Uid = uid, Gid = gid, Umask = umask, AdditionalGids = additionalGids };
    }

    private static CapabilitiesSpec? Capabilities(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(CapabilitiesSpec)))
        {
            return null;
        }
        IReadOnlyList<string>? bounding = null, effective = null, inheritable = null, permitted = null, ambient = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "bounding"u8)) { bounding = Strings(ref reader); }
            else if (Is(ref reader, "effective"u8)) { effective = Strings(ref reader); }
            else if (Is(ref reader, "inheritable"u8)) { inheritable = Strings(ref reader); }
            else if (Is(ref reader, "permitted"u8)) { permitted = Strings(ref reader); }
            else if (Is(ref reader, "ambient"u8)) { ambient = Strings(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new CapabilitiesSpec { Bounding = bounding, Effective = effective, Inheritable = inheritable, Permitted = permitted, Ambient = ambient };
    }

    private static RlimitSpec? Rlimit(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(RlimitSpec)))
        {
            return null;
        }
        string? type = null;
        var hasType = false;
        ulong hard = 0, soft = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "type"u8)) { type = String(ref reader); hasType = true; }
            else if (Is(ref reader, "hard"u8)) { hard = UInt64(ref reader); }
            else if (Is(ref reader, "soft"u8)) { soft = UInt64(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasType, nameof(RlimitSpec), "type");
        return new RlimitSpec { Type = type!, Hard = hard, Soft = soft };
    }

    private static SchedulerSpec? Scheduler(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(SchedulerSpec)))
        {
            return null;
        }
        string? policy = null;
        var hasPolicy = false;
        int nice = 0, priority = 0;
        IReadOnlyList<string>? flags = null;
        ulong runtime = 0, deadline = 0, period = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "policy"u8)) { policy = String(ref reader); hasPolicy = true; }
            else if (Is(ref reader, "nice"u8)) { nice = Int32(ref reader); }
            else if (Is(ref reader, "priority"u8)) { priority = Int32(ref reader); }
            else if (Is(ref reader, "flags"u8)) { flags = Strings(ref reader); }
            else if (Is(ref reader, "runtime"u8)) { runtime = UInt64(ref reader); }
            else if (Is(ref reader, "deadline"u8)) { deadline = UInt64(ref reader); }
            else if (Is(ref reader, "period"u8)) { period = UInt64(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasPolicy, nameof(SchedulerSpec), "policy");
        return new SchedulerSpec { Policy = policy!, Nice = nice, Priority = priority, Flags = flags, Runtime = runtime, Deadline = deadline, Period = period };
    }

    private static IoPrioritySpec? IoPriority(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(IoPrioritySpec)))
        {
            return null;
        }
        string? ioClass = null;
        var hasClass = false;
        var priority = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "class"u8)) { ioClass = String(ref reader); hasClass = true; }
            else if (Is(ref reader, "priority"u8)) { priority = Int32(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasClass, nameof(IoPrioritySpec), "class");
        return new IoPrioritySpec { Class = ioClass!, Priority = priority };
    }
}
