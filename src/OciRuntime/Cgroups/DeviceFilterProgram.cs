using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>
/// Compiles linux.resources.devices into a BPF_PROG_TYPE_CGROUP_DEVICE program, the cgroup v2
/// replacement of devices.allow/devices.deny. The kernel runs it for every open or mknod of a
/// device node with a struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in r1,
/// where access_type is (access &lt;&lt; 16) | type, and allows the operation when it returns 1.
/// Pure, so the generated code is unit-tested.
/// </summary>
/// <remarks>
/// Semantics (runtime-spec config-linux.md "Allowed Device Access": later rules override earlier
/// ones), decided per access bit the way the v1 devices controller keeps its exceptions: the
/// program walks the rules from the last to the first with the set of requested bits still
/// undecided; a matching deny rule that names one of them refuses the whole request, a matching
/// allow rule settles the bits it names, and the request passes once none is left. Bits no rule
/// names are allowed, as in a v1 cgroup, which starts with its parent's allow-all: every
/// Kubernetes runtime puts a deny-all rule first.
/// </remarks>
public static class DeviceFilterProgram
{
    // struct bpf_cgroup_dev_ctx offsets and the values packed in access_type (linux/bpf.h).
    private const short AccessTypeOffset = 0;
    private const short MajorOffset = 4;
    private const short MinorOffset = 8;
    private const int TypeBlock = 1;
    private const int TypeChar = 2;
    private const int AccessMknod = 1;
    private const int AccessRead = 2;
    private const int AccessWrite = 4;

    // Registers: r1 holds the context on entry, r0 the result on exit.
    private const byte Result = 0;
    private const byte Context = 1;
    private const byte Pending = 2;
    private const byte Type = 3;
    private const byte Major = 4;
    private const byte Minor = 5;

    /// <summary>Marks a jump to the end of the current rule's block until the block's length is known.</summary>
    private const short ToNextRule = short.MinValue;

    public static IReadOnlyList<BpfInstruction> Compile(IReadOnlyList<DeviceCgroupSpec> rules)
    {
        var program = new List<BpfInstruction>
        {
            BpfInstruction.LoadWord(Pending, Context, AccessTypeOffset),
            BpfInstruction.LoadWord(Major, Context, MajorOffset),
            BpfInstruction.LoadWord(Minor, Context, MinorOffset),
            BpfInstruction.Move32Register(Type, Pending),
            BpfInstruction.Alu32Immediate(BpfInstruction.OpAnd, Type, 0xffff),
            BpfInstruction.Alu32Immediate(BpfInstruction.OpRightShift, Pending, 16),
        };
        for (var i = rules.Count - 1; i >= 0; i--)
        {
            program.AddRange(RuleBlock(rules[i], i));
        }
        program.Add(BpfInstruction.Alu32Immediate(BpfInstruction.OpMove, Result, 1));
        program.Add(BpfInstruction.Exit());
        return program;
    }

    private static List<BpfInstruction> RuleBlock(DeviceCgroupSpec rule, int index)
    {
        var access = AccessBits(rule.Access, index);
        var block = new List<BpfInstruction>();
        switch (rule.Type)
        {
            case null or "" or "a":
                break;
            case "b":
                block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpNotEqual, Type, TypeBlock, ToNextRule));
                break;
            case "c":
                block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpNotEqual, Type, TypeChar, ToNextRule));
                break;
            default:
                throw new Core.InvalidArgumentException($"linux.resources.devices[{index}].type: {rule.Type} is not a, b or c");
        }
        if (DeviceNumber(rule.Major, "major", index) is { } major)
        {
            block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpNotEqual, Major, major, ToNextRule));
        }
        if (DeviceNumber(rule.Minor, "minor", index) is { } minor)
        {
            block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpNotEqual, Minor, minor, ToNextRule));
        }
        if (rule.Allow)
        {
            // Settle the bits this rule names; when none is left undecided, the request passes.
            block.Add(BpfInstruction.Alu32Immediate(BpfInstruction.OpAnd, Pending, ~access));
            block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpNotEqual, Pending, 0, ToNextRule));
            block.Add(BpfInstruction.Alu32Immediate(BpfInstruction.OpMove, Result, 1));
        }
        else
        {
            block.Add(BpfInstruction.Move32Register(Result, Pending));
            block.Add(BpfInstruction.Alu32Immediate(BpfInstruction.OpAnd, Result, access));
            block.Add(BpfInstruction.Jump32Immediate(BpfInstruction.OpJumpEqual, Result, 0, ToNextRule));
            block.Add(BpfInstruction.Alu32Immediate(BpfInstruction.OpMove, Result, 0));
        }
        block.Add(BpfInstruction.Exit());
        for (var i = 0; i < block.Count; i++)
        {
            if (block[i].Offset == ToNextRule)
            {
                block[i] = block[i] with { Offset = (short)(block.Count - i - 1) };
            }
        }
        return block;
    }

    private static int AccessBits(string? access, int index)
    {
        if (string.IsNullOrEmpty(access))
        {
            return AccessMknod | AccessRead | AccessWrite;
        }
        var bits = 0;
        foreach (var letter in access)
        {
            bits |= letter switch
            {
                'r' => AccessRead,
                'w' => AccessWrite,
                'm' => AccessMknod,
                _ => throw new Core.InvalidArgumentException($"linux.resources.devices[{index}].access: {access} is not made of r, w and m"),
            };
        }
        return bits;
    }

    /// <summary>The number to compare, or null for a wildcard (absent or -1).</summary>
    private static int? DeviceNumber(long? number, string name, int index) => number switch
    {
        null or -1 => null,
        >= 0 and <= uint.MaxValue => unchecked((int)(uint)number.Value),
        _ => throw new Core.InvalidArgumentException($"linux.resources.devices[{index}].{name}: {number} is not a device number or -1"),
    };
}
