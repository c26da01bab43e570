using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Spec;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Init;

public sealed class SchedulingSetupTests
{
    [Fact]
    public void ToSchedAttr_DeadlineWithFlags_CarriesEveryField()
    {
        var attr = SchedulingSetup.ToSchedAttr(new SchedulerSpec
        {
            Policy = "SCHED_DEADLINE",
            Flags = ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_DL_OVERRUN"],
            Runtime = 10_000_000,
            Deadline = 30_000_000,
            Period = 40_000_000,
        });

        Assert.Equal((uint)SCHED_DEADLINE, attr.Policy);
        Assert.Equal(SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_DL_OVERRUN, attr.Flags);
        Assert.Equal((10_000_000UL, 30_000_000UL, 40_000_000UL), (attr.Runtime, attr.Deadline, attr.Period));
        // The kernel reads the struct by this size: version 0 is 48 bytes.
        Assert.Equal(48u, attr.Size);
    }

    [Theory]
    [InlineData("SCHED_WHATEVER", 0, 0, "policy")]
    [InlineData("SCHED_OTHER", 20, 0, "nice")]
    [InlineData("SCHED_BATCH", 0, 5, "priority")]
    [InlineData("SCHED_FIFO", 0, 0, "priority")]
    [InlineData("SCHED_RR", 0, 100, "priority")]
    public void ToSchedAttr_InvalidField_ThrowsNamingTheField(string policy, int nice, int priority, string field)
    {
        var exception = Assert.Throws<InitException>(() => SchedulingSetup.ToSchedAttr(new SchedulerSpec { Policy = policy, Nice = nice, Priority = priority }));

        Assert.Contains("process.scheduler." + field, exception.Message);
    }

    [Fact]
    public void ToSchedAttr_UnknownFlag_Throws()
    {
        var exception = Assert.Throws<InitException>(() => SchedulingSetup.ToSchedAttr(new SchedulerSpec { Policy = "SCHED_OTHER", Flags = ["SCHED_FLAG_FAST"] }));

        Assert.Contains("SCHED_FLAG_FAST", exception.Message);
    }

    [Theory]
    [InlineData("IOPRIO_CLASS_RT", 0, (1 << 13) | 0)]
    [InlineData("IOPRIO_CLASS_BE", 6, (2 << 13) | 6)]
    [InlineData("IOPRIO_CLASS_IDLE", 7, (3 << 13) | 7)]
    public void ToIoPriority_ClassAndLevel_EncodesAsIoprioSetExpects(string ioClass, int level, int expected)
    {
        Assert.Equal(expected, SchedulingSetup.ToIoPriority(new IoPrioritySpec { Class = ioClass, Priority = level }));
    }

    [Theory]
    [InlineData("IOPRIO_CLASS_NONE", 0)]
    [InlineData("IOPRIO_CLASS_BE", 8)]
    [InlineData("IOPRIO_CLASS_BE", -1)]
    public void ToIoPriority_InvalidClassOrLevel_Throws(string ioClass, int level)
    {
        Assert.Throws<InitException>(() => SchedulingSetup.ToIoPriority(new IoPrioritySpec { Class = ioClass, Priority = level }));
    }

    [Theory]
    [InlineData("LINUX", PER_LINUX)]
    [InlineData("LINUX32", PER_LINUX32)]
    public void ToPersona_KnownDomain_MapsToPersonality(string domain, ulong expected)
    {
        Assert.Equal(expected, SchedulingSetup.ToPersona(new PersonalitySpec { Domain = domain }));
    }

    [Fact]
    public void ToPersona_UnknownDomainOrAnyFlag_Throws()
    {
        Assert.Throws<InitException>(() => SchedulingSetup.ToPersona(new PersonalitySpec { Domain = "BSD" }));
        Assert.Throws<InitException>(() => SchedulingSetup.ToPersona(new PersonalitySpec { Domain = "LINUX", Flags = ["ADDR_NO_RANDOMIZE"] }));
    }
}
