using CriOci.Core;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cgroups;

public sealed class DeviceFilterProgramTests
{
    /// <summary>The shape container runtimes send: deny everything, then allow a list.</summary>
    private static readonly DeviceCgroupSpec[] ContainerRules =
    [
        new() { Allow = false, Access = "rwm" },
        new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
        new() { Allow = true, Type = "c", Major = 1, Minor = 5, Access = "rwm" },
        new() { Allow = true, Type = "c", Major = null, Minor = null, Access = "m" },
        new() { Allow = true, Type = "b", Major = -1, Minor = -1, Access = "m" },
        new() { Allow = true, Type = "c", Major = 136, Minor = -1, Access = "rwm" },
        new() { Allow = true, Type = "c", Major = 5, Minor = 2, Access = "rw" },
        new() { Allow = false, Type = "c", Major = 1, Minor = 5, Access = "w" },
    ];

    public static TheoryData<char, uint, uint, string, bool> ContainerCases => new()
    {
        { 'c', 1, 3, "r", true },
        { 'c', 1, 3, "rw", true },
        { 'c', 1, 3, "m", true },
        { 'c', 1, 5, "r", true },
        { 'c', 1, 5, "w", false },   // the later deny overrides the earlier allow
        { 'c', 1, 5, "rw", false },  // one denied bit refuses the whole request
        { 'c', 1, 7, "r", false },   // no allow names it: the first rule denies it
        { 'c', 1, 7, "m", true },    // mknod of any char device
        { 'b', 8, 0, "m", true },
        { 'b', 8, 0, "r", false },
        { 'b', 1, 3, "r", false },   // same numbers as /dev/null, other type
        { 'c', 136, 4, "rw", true }, // minor wildcard
        { 'c', 137, 4, "r", false },
        { 'c', 5, 2, "rw", true },
        { 'b', 5, 2, "rw", false },  // the rule for 5:2 names char devices only
        { 'c', 0x7fff_ffff, 0xffff_ffff, "r", false },
    };

    [Theory]
    [MemberData(nameof(ContainerCases))]
    public void Compile_ContainerRules_AllowsExactlyTheListedDevices(char type, uint major, uint minor, string access, bool allowed)
    {
        var program = BpfInstruction.Encode(DeviceFilterProgram.Compile(ContainerRules));

        var result = BpfInterpreter.RunDevice(program, type, major, minor, access);

        Assert.Equal(allowed ? 1UL : 0UL, result);
    }

    public static TheoryData<string, char, uint, uint, string, bool> SmallRuleSets => new()
    {
        // No rule at all: as a fresh v1 cgroup, everything is allowed.
        { "", 'c', 1, 5, "rwm", true },
        // A lone deny takes away its own access only.
        { "-c:1:5:w", 'c', 1, 5, "r", true },
        { "-c:1:5:w", 'c', 1, 5, "rw", false },
        { "-c:1:5:w", 'c', 1, 3, "w", true },
        // Bits granted by different allow rules add up (v1 merges exceptions the same way).
        { "-a:*:*:rwm +c:1:3:r +c:1:3:w", 'c', 1, 3, "rw", true },
        { "-a:*:*:rwm +c:1:3:r +c:1:3:w", 'c', 1, 3, "rwm", false },
        // Last match wins: allow after deny, deny after allow.
        { "-c:1:3:rwm +c:1:3:rwm", 'c', 1, 3, "rw", true },
        { "+c:1:3:rwm -c:1:3:rwm", 'c', 1, 3, "r", false },
        // A type-a rule covers block and char devices.
        { "-a:*:*:r", 'b', 7, 0, "r", false },
        { "-a:*:*:r", 'c', 7, 0, "w", true },
        // Access left out means rwm.
        { "-a:*:*: +c:1:3:", 'c', 1, 3, "rwm", true },
        { "-a:*:*: +c:1:3:", 'c', 1, 4, "m", false },
    };

    [Theory]
    [MemberData(nameof(SmallRuleSets))]
    public void Compile_RuleSet_DecidesEachAccessBitByTheLastRuleNamingIt(string rules, char type, uint major, uint minor, string access, bool allowed)
    {
        var program = BpfInstruction.Encode(DeviceFilterProgram.Compile(Parse(rules)));

        var result = BpfInterpreter.RunDevice(program, type, major, minor, access);

        Assert.Equal(allowed ? 1UL : 0UL, result);
    }

    public static TheoryData<DeviceCgroupSpec, string> BadRules => new()
    {
        { new DeviceCgroupSpec { Allow = true, Type = "p", Access = "r" }, "type" },
        { new DeviceCgroupSpec { Allow = true, Type = "c", Access = "rx" }, "access" },
        { new DeviceCgroupSpec { Allow = true, Type = "c", Major = -2, Access = "r" }, "major" },
        { new DeviceCgroupSpec { Allow = true, Type = "c", Minor = 1L << 33, Access = "r" }, "minor" },
    };

    [Theory]
    [MemberData(nameof(BadRules))]
    public void Compile_InvalidRule_NamesTheField(DeviceCgroupSpec rule, string field)
    {
        var error = Assert.Throws<InvalidArgumentException>(() => DeviceFilterProgram.Compile([rule]));

        Assert.Contains($"devices[0].{field}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_ThenDecode_GivesTheSameInstructions()
    {
        var program = DeviceFilterProgram.Compile(ContainerRules);

        var bytes = BpfInstruction.Encode(program);
        var decoded = Enumerable.Range(0, program.Count).Select(i => BpfInstruction.ReadFrom(bytes.AsSpan(i * BpfInstruction.Size)));

        Assert.Equal(program, decoded);
    }

    [Fact]
    public void Encode_LoadOfTheContext_PutsRegistersInTheRightNibbles()
    {
        // ldxw r2, [r1 + 0]: opcode 0x61, dst r2 in the low nibble, src r1 in the high one.
        var bytes = BpfInstruction.Encode(DeviceFilterProgram.Compile([]));

        Assert.Equal(new byte[] { 0x61, 0x12, 0, 0, 0, 0, 0, 0 }, bytes[..8]);
    }

    /// <summary>"+c:1:3:rw" allows, "-a:*:*:rwm" denies; '*' is a wildcard.</summary>
    private static DeviceCgroupSpec[] Parse(string rules) =>
        rules.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(rule =>
        {
            var parts = rule[1..].Split(':');
            return new DeviceCgroupSpec
            {
                Allow = rule[0] == '+',
                Type = parts[0],
                Major = parts[1] == "*" ? null : long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture),
                Minor = parts[2] == "*" ? null : long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture),
                Access = parts[3],
            };
        }).ToArray();
}
