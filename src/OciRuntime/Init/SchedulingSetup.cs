using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// process.scheduler, process.ioPriority and linux.personality: attributes of the process that
/// execve keeps, set before the credentials change (raising a real-time policy or the RT I/O
/// class needs capabilities the container may not keep).
/// </summary>
internal static class SchedulingSetup
{
    private static readonly Dictionary<string, int> Policies = new(StringComparer.Ordinal)
    {
        ["SCHED_OTHER"] = SCHED_OTHER, ["SCHED_FIFO"] = SCHED_FIFO, ["SCHED_RR"] = SCHED_RR,
        ["SCHED_BATCH"] = SCHED_BATCH, ["SCHED_ISO"] = SCHED_ISO, ["SCHED_IDLE"] = SCHED_IDLE,
        ["SCHED_DEADLINE"] = SCHED_DEADLINE,
    };

    private static readonly Dictionary<string, ulong> SchedulerFlags = new(StringComparer.Ordinal)
    {
        ["SCHED_FLAG_RESET_ON_FORK"] = SCHED_FLAG_RESET_ON_FORK,
        ["SCHED_FLAG_RECLAIM"] = SCHED_FLAG_RECLAIM,
        ["SCHED_FLAG_DL_OVERRUN"] = SCHED_FLAG_DL_OVERRUN,
        ["SCHED_FLAG_KEEP_POLICY"] = SCHED_FLAG_KEEP_POLICY,
        ["SCHED_FLAG_KEEP_PARAMS"] = SCHED_FLAG_KEEP_PARAMS,
        ["SCHED_FLAG_UTIL_CLAMP_MIN"] = SCHED_FLAG_UTIL_CLAMP_MIN,
        ["SCHED_FLAG_UTIL_CLAMP_MAX"] = SCHED_FLAG_UTIL_CLAMP_MAX,
    };

    private static readonly Dictionary<string, int> IoClasses = new(StringComparer.Ordinal)
    {
        ["IOPRIO_CLASS_RT"] = IOPRIO_CLASS_RT, ["IOPRIO_CLASS_BE"] = IOPRIO_CLASS_BE, ["IOPRIO_CLASS_IDLE"] = IOPRIO_CLASS_IDLE,
    };

    public static void Apply(ProcessSpec process, PersonalitySpec? personality)
    {
        if (personality is not null)
        {
            ApplyPersonality(personality);
        }
        if (process.Scheduler is { } scheduler)
        {
            ApplyScheduler(scheduler);
        }
        if (process.IoPriority is { } ioPriority)
        {
            ApplyIoPriority(ioPriority);
        }
    }

    /// <summary>The sched_attr for <paramref name="scheduler"/>; validation the kernel would only answer with EINVAL is done here, with the field's name.</summary>
    public static SchedAttr ToSchedAttr(SchedulerSpec scheduler)
    {
        if (!Policies.TryGetValue(scheduler.Policy, out var policy))
        {
            throw new InitException($"process.scheduler.policy: unknown policy {scheduler.Policy}");
        }
        if (scheduler.Nice is < -20 or > 19)
        {
            throw new InitException($"process.scheduler.nice: {scheduler.Nice} is outside -20..19");
        }
        var realTime = policy is SCHED_FIFO or SCHED_RR;
        if (realTime ? scheduler.Priority is < 1 or > 99 : scheduler.Priority != 0)
        {
            throw new InitException($"process.scheduler.priority: {scheduler.Priority} is not valid for {scheduler.Policy} ({(realTime ? "1..99" : "must be 0")})");
        }
        ulong flags = 0;
        foreach (var name in scheduler.Flags ?? [])
        {
            flags |= SchedulerFlags.TryGetValue(name, out var flag) ? flag : throw new InitException($"process.scheduler.flags: unknown flag {name}");
        }
        return new SchedAttr
        {
            Size = (uint)Marshal.SizeOf<SchedAttr>(),
            Policy = (uint)policy,
            Flags = flags,
            Nice = scheduler.Nice,
            Priority = (uint)scheduler.Priority,
            Runtime = scheduler.Runtime,
            Deadline = scheduler.Deadline,
            Period = scheduler.Period,
        };
    }

    private static void ApplyScheduler(SchedulerSpec scheduler)
    {
        var attr = ToSchedAttr(scheduler);
        if (sched_setattr(0, ref attr) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InitException($"process.scheduler ({scheduler.Policy}, nice {scheduler.Nice}, priority {scheduler.Priority}): sched_setattr: {Errno.Describe(errno)}");
        }
    }

    /// <summary>ioprio_set's value: the class in the top bits, the level (0 highest, 7 lowest) below.</summary>
    public static int ToIoPriority(IoPrioritySpec ioPriority)
    {
        if (!IoClasses.TryGetValue(ioPriority.Class, out var ioClass))
        {
            throw new InitException($"process.ioPriority.class: unknown class {ioPriority.Class}");
        }
        if (ioPriority.Priority is < 0 or > 7)
        {
            throw new InitException($"process.ioPriority.priority: {ioPriority.Priority} is outside 0..7");
        }
        return (ioClass << IOPRIO_CLASS_SHIFT) | ioPriority.Priority;
    }

    private static void ApplyIoPriority(IoPrioritySpec ioPriority)
    {
        var value = ToIoPriority(ioPriority);
        if (ioprio_set(IOPRIO_WHO_PROCESS, 0, value) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InitException($"process.ioPriority ({ioPriority.Class} {ioPriority.Priority}): ioprio_set: {Errno.Describe(errno)}");
        }
    }

    /// <summary>personality(2)'s persona for <paramref name="personality"/>. The spec defines no flag names yet, so any flag is refused rather than ignored.</summary>
    public static ulong ToPersona(PersonalitySpec personality)
    {
        if (personality.Flags is { Count: > 0 } flags)
        {
            throw new InitException($"linux.personality.flags: unsupported flags {string.Join(", ", flags)}");
        }
        return personality.Domain switch
        {
            "LINUX" => PER_LINUX,
            "LINUX32" => PER_LINUX32,
            _ => throw new InitException($"linux.personality.domain: unknown domain {personality.Domain} (LINUX or LINUX32)"),
        };
    }

    private static void ApplyPersonality(PersonalitySpec personality)
    {
        if (Linux.Interop.LibC.personality(ToPersona(personality)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InitException($"linux.personality {personality.Domain}: personality: {Errno.Describe(errno)}");
        }
    }
}
