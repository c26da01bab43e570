using CriOci.OciRuntime.Seccomp;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// A container's seccomp profile as the BPF program the kernel takes (struct sock_filter
/// instructions) and the seccomp(2) flags, for <see cref="DirectExec"/>. Compiling a profile
/// with libseccomp costs more than the rest of an exec, and the profile of a container never
/// changes once it is created, so the program is compiled at its first exec and kept in its
/// state directory, which goes away with the container (the command line's `exec` reads it
/// there), and in the daemon's memory (<see cref="ExecSeccompCache"/>).
/// </summary>
public sealed record ExecSeccompProgram(byte[] Program, uint Flags)
{
    /// <summary>sizeof(struct sock_filter).</summary>
    public const int InstructionSize = 8;

    private const string FileName = "exec-seccomp.bpf";

    /// <summary>The program for <paramref name="profile"/>, compiled now or read back; null without a profile.</summary>
    public static ExecSeccompProgram? ForContainer(StateDirectory directory, SeccompSpec? profile)
    {
        if (profile is null)
        {
            return null;
        }
        var flags = SeccompFilter.KernelFlags(profile);
        var file = Path.Combine(directory.Path, FileName);
        byte[] program;
        try
        {
            program = File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            program = SeccompFilter.Compile(profile);
            Core.AtomicFile.ReplaceVolatile(file, program);
        }
        if (program.Length == 0 || program.Length % InstructionSize != 0 || program.Length / InstructionSize > ushort.MaxValue)
        {
            throw new Core.FailedPreconditionException($"{file}: not a seccomp BPF program ({program.Length} bytes)");
        }
        return new ExecSeccompProgram(program, flags);
    }
}
