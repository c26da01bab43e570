using System.Buffers.Binary;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>
/// One eBPF instruction as the kernel reads it (struct bpf_insn, Documentation/bpf/standardization/
/// instruction-set.rst): an opcode byte, destination and source register nibbles, a signed
/// 16-bit jump offset counted in instructions after this one, and a signed 32-bit immediate.
/// </summary>
public readonly record struct BpfInstruction(byte Opcode, byte Destination, byte Source, short Offset, int Immediate)
{
    public const int Size = 8;

    // Instruction classes (the low three bits of the opcode).
    public const byte ClassLdx = 0x01;
    public const byte ClassAlu32 = 0x04;
    public const byte ClassJmp = 0x05;
    public const byte ClassJmp32 = 0x06;

    // Load sizes and mode.
    public const byte SizeWord = 0x00;
    public const byte ModeMemory = 0x60;

    // Arithmetic operations.
    public const byte OpAnd = 0x50;
    public const byte OpRightShift = 0x70;
    public const byte OpMove = 0xb0;

    // Jump operations.
    public const byte OpJumpEqual = 0x10;
    public const byte OpJumpNotEqual = 0x50;
    public const byte OpExit = 0x90;

    /// <summary>Operand source: the immediate (K) or the source register (X).</summary>
    public const byte SourceImmediate = 0x00;
    public const byte SourceRegister = 0x08;

    /// <summary>dst = *(u32 *)(src + offset)</summary>
    public static BpfInstruction LoadWord(byte destination, byte source, short offset) =>
        new((byte)(ClassLdx | SizeWord | ModeMemory), destination, source, offset, 0);

    /// <summary>32-bit dst = dst OP immediate (the upper half of dst becomes zero).</summary>
    public static BpfInstruction Alu32Immediate(byte operation, byte destination, int immediate) =>
        new((byte)(ClassAlu32 | operation | SourceImmediate), destination, 0, 0, immediate);

    /// <summary>32-bit dst = src.</summary>
    public static BpfInstruction Move32Register(byte destination, byte source) =>
        new((byte)(ClassAlu32 | OpMove | SourceRegister), destination, source, 0, 0);

    /// <summary>Skips <paramref name="offset"/> instructions when the low 32 bits of dst compare true to the immediate.</summary>
    public static BpfInstruction Jump32Immediate(byte operation, byte destination, int immediate, short offset) =>
        new((byte)(ClassJmp32 | operation | SourceImmediate), destination, 0, offset, immediate);

    public static BpfInstruction Exit() => new((byte)(ClassJmp | OpExit), 0, 0, 0, 0);

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = Opcode;
        destination[1] = (byte)((Source << 4) | (Destination & 0x0f));
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Immediate);
    }

    public static BpfInstruction ReadFrom(ReadOnlySpan<byte> source) =>
        new(source[0], (byte)(source[1] & 0x0f), (byte)(source[1] >> 4),
            BinaryPrimitives.ReadInt16LittleEndian(source[2..]), BinaryPrimitives.ReadInt32LittleEndian(source[4..]));

    /// <summary>The program as the bytes BPF_PROG_LOAD takes (x86_64 and arm64 are little-endian).</summary>
    public static byte[] Encode(IReadOnlyList<BpfInstruction> program)
    {
        var bytes = new byte[program.Count * Size];
        for (var i = 0; i < program.Count; i++)
        {
            program[i].WriteTo(bytes.AsSpan(i * Size));
        }
        return bytes;
    }
}
