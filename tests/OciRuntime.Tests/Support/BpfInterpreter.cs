using System.Buffers.Binary;
using CriOci.OciRuntime.Cgroups;

namespace CriOci.OciRuntime.Tests.Support;

/// <summary>
/// Runs a cgroup device program the way the kernel would, for the handful of instructions a
/// device filter needs. It decodes the encoded bytes (so the encoding is checked too), refuses
/// what the verifier would refuse (an unknown opcode, a read of a register never written, a
/// context read out of bounds, a jump out of the program, falling off its end) and returns r0.
/// </summary>
internal static class BpfInterpreter
{
    private const int ContextSize = 12;

    /// <summary>Runs the program for one access; type 'b' or 'c', access a subset of "rwm".</summary>
    public static ulong RunDevice(byte[] program, char type, uint major, uint minor, string access)
    {
        var typeBits = type switch { 'b' => 1u, 'c' => 2u, _ => throw new ArgumentException(type.ToString()) };
        var accessBits = 0u;
        foreach (var letter in access)
        {
            accessBits |= letter switch { 'm' => 1u, 'r' => 2u, 'w' => 4u, _ => throw new ArgumentException(access) };
        }
        var context = new byte[ContextSize];
        BinaryPrimitives.WriteUInt32LittleEndian(context, (accessBits << 16) | typeBits);
        BinaryPrimitives.WriteUInt32LittleEndian(context.AsSpan(4), major);
        BinaryPrimitives.WriteUInt32LittleEndian(context.AsSpan(8), minor);
        return Run(program, context);
    }

    public static ulong Run(byte[] program, byte[] context)
    {
        if (program.Length % BpfInstruction.Size != 0)
        {
            throw new InvalidOperationException($"program length {program.Length} is not a whole number of instructions");
        }
        var count = program.Length / BpfInstruction.Size;
        var registers = new ulong[11];
        var written = new bool[11];
        written[1] = true; // r1: the context pointer
        var pc = 0;
        for (var steps = 0; steps < 100_000; steps++)
        {
            if (pc < 0 || pc >= count)
            {
                throw new InvalidOperationException($"execution left the program at {pc}");
            }
            var instruction = BpfInstruction.ReadFrom(program.AsSpan(pc * BpfInstruction.Size));
            var dst = instruction.Destination;
            var src = instruction.Source;
            if (dst > 10 || src > 10)
            {
                throw new InvalidOperationException($"bad register at {pc}");
            }
            var operationClass = instruction.Opcode & 0x07;
            var operation = instruction.Opcode & 0xf0;
            var usesRegister = (instruction.Opcode & 0x08) != 0;
            pc++;
            switch (operationClass)
            {
                case BpfInstruction.ClassLdx when instruction.Opcode == 0x61:
                    if (src != 1)
                    {
                        throw new InvalidOperationException($"load through r{src}, which is not the context, at {pc - 1}");
                    }
                    if (instruction.Offset < 0 || instruction.Offset % 4 != 0 || instruction.Offset + 4 > ContextSize)
                    {
                        throw new InvalidOperationException($"context read at offset {instruction.Offset}");
                    }
                    registers[dst] = BinaryPrimitives.ReadUInt32LittleEndian(context.AsSpan(instruction.Offset));
                    written[dst] = true;
                    break;
                case BpfInstruction.ClassAlu32:
                {
                    var operand = usesRegister ? (uint)Read(registers, written, src, pc) : (uint)instruction.Immediate;
                    var value = operation == BpfInstruction.OpMove ? 0u : (uint)Read(registers, written, dst, pc);
                    registers[dst] = operation switch
                    {
                        BpfInstruction.OpMove => operand,
                        BpfInstruction.OpAnd => value & operand,
                        BpfInstruction.OpRightShift => value >> (int)(operand & 31),
                        0x40 => value | operand,
                        0x60 => value << (int)(operand & 31),
                        _ => throw new InvalidOperationException($"unsupported ALU32 opcode 0x{instruction.Opcode:x2} at {pc - 1}"),
                    };
                    written[dst] = true;
                    break;
                }
                case BpfInstruction.ClassJmp when operation == BpfInstruction.OpExit:
                    return Read(registers, written, 0, pc);
                case BpfInstruction.ClassJmp when operation == 0x00:
                    pc += instruction.Offset;
                    break;
                case BpfInstruction.ClassJmp32:
                {
                    var left = (uint)Read(registers, written, dst, pc);
                    var right = usesRegister ? (uint)Read(registers, written, src, pc) : (uint)instruction.Immediate;
                    var taken = operation switch
                    {
                        BpfInstruction.OpJumpEqual => left == right,
                        BpfInstruction.OpJumpNotEqual => left != right,
                        _ => throw new InvalidOperationException($"unsupported JMP32 opcode 0x{instruction.Opcode:x2} at {pc - 1}"),
                    };
                    if (taken)
                    {
                        pc += instruction.Offset;
                    }
                    break;
                }
                default:
                    throw new InvalidOperationException($"unsupported opcode 0x{instruction.Opcode:x2} at {pc - 1}");
            }
        }
        throw new InvalidOperationException("the program did not finish");
    }

    private static ulong Read(ulong[] registers, bool[] written, int register, int pc) =>
        written[register] ? registers[register] : throw new InvalidOperationException($"r{register} read before written, at {pc - 1}");
}
