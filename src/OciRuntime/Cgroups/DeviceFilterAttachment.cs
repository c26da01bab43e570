using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using Microsoft.Win32.SafeHandles;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>
/// Puts a <see cref="DeviceFilterProgram"/> on a cgroup v2 directory with bpf(2). Attached with
/// BPF_F_ALLOW_MULTI, as runc and crun do, so a program a parent cgroup carries keeps running too
/// (every attached program must allow an access). An update replaces the cgroup's own program:
/// atomically with BPF_F_REPLACE when there is exactly one, else the new one goes on before the
/// old ones come off, so the container is never left without a filter in between.
/// </summary>
public static class DeviceFilterAttachment
{
    private const string License = "Apache-2.0";
    private const string ProgramName = "crioci_devices";
    private const int MaxAttachedPrograms = 64;
    private const int VerifierLogSize = 64 * 1024;

    public static void Apply(string cgroupDirectory, IReadOnlyList<DeviceCgroupSpec> rules)
    {
        var program = BpfInstruction.Encode(DeviceFilterProgram.Compile(rules));
        using var cgroup = OpenCgroup(cgroupDirectory);
        using var loaded = Load(program, cgroupDirectory);
        var previous = AttachedPrograms(cgroup, cgroupDirectory);
        try
        {
            var attach = new LibC.BpfProgAttachAttr
            {
                TargetFd = Fd(cgroup),
                AttachBpfFd = Fd(loaded),
                AttachType = LibC.BPF_CGROUP_DEVICE,
                AttachFlags = LibC.BPF_F_ALLOW_MULTI,
            };
            if (previous.Count == 1)
            {
                attach.AttachFlags |= LibC.BPF_F_REPLACE;
                attach.ReplaceBpfFd = Fd(previous[0]);
            }
            Errno.Check(LibC.bpf(LibC.BPF_PROG_ATTACH, ref attach), "bpf BPF_PROG_ATTACH device filter to", cgroupDirectory);
            if (previous.Count > 1)
            {
                foreach (var old in previous)
                {
                    Detach(cgroup, old, cgroupDirectory);
                }
            }
        }
        finally
        {
            foreach (var old in previous)
            {
                old.Dispose();
            }
        }
    }

    /// <summary>Takes every device program off the cgroup (the container's rules no longer apply).</summary>
    public static void DetachAll(string cgroupDirectory)
    {
        using var cgroup = OpenCgroup(cgroupDirectory);
        foreach (var old in AttachedPrograms(cgroup, cgroupDirectory))
        {
            using (old)
            {
                Detach(cgroup, old, cgroupDirectory);
            }
        }
    }

    /// <summary>The IDs of the device programs attached to the cgroup itself (not inherited ones).</summary>
    public static IReadOnlyList<uint> AttachedProgramIds(string cgroupDirectory)
    {
        using var cgroup = OpenCgroup(cgroupDirectory);
        return QueryIds(cgroup, cgroupDirectory);
    }

    private static unsafe uint[] QueryIds(SafeFileHandle cgroup, string cgroupDirectory)
    {
        var ids = new uint[MaxAttachedPrograms];
        fixed (uint* buffer = ids)
        {
            var query = new LibC.BpfProgQueryAttr
            {
                TargetFd = Fd(cgroup),
                AttachType = LibC.BPF_CGROUP_DEVICE,
                ProgIds = (ulong)buffer,
                ProgCount = MaxAttachedPrograms,
            };
            Errno.Check(LibC.bpf(LibC.BPF_PROG_QUERY, ref query), "bpf BPF_PROG_QUERY device filters of", cgroupDirectory);
            return ids[..(int)query.ProgCount];
        }
    }

    private static List<SafeFileHandle> AttachedPrograms(SafeFileHandle cgroup, string cgroupDirectory)
    {
        var programs = new List<SafeFileHandle>();
        foreach (var id in QueryIds(cgroup, cgroupDirectory))
        {
            var byId = new LibC.BpfGetFdByIdAttr { Id = id };
            var fd = LibC.bpf(LibC.BPF_PROG_GET_FD_BY_ID, ref byId);
            if (fd < 0 && Marshal.GetLastPInvokeError() == Errno.ENOENT)
            {
                continue; // detached and freed since the query
            }
            programs.Add(new SafeFileHandle(Errno.Check(fd, "bpf BPF_PROG_GET_FD_BY_ID", $"program {id} on {cgroupDirectory}"), ownsHandle: true));
        }
        return programs;
    }

    private static void Detach(SafeFileHandle cgroup, SafeFileHandle program, string cgroupDirectory)
    {
        var detach = new LibC.BpfProgAttachAttr
        {
            TargetFd = Fd(cgroup),
            AttachBpfFd = Fd(program),
            AttachType = LibC.BPF_CGROUP_DEVICE,
        };
        Errno.Check(LibC.bpf(LibC.BPF_PROG_DETACH, ref detach), "bpf BPF_PROG_DETACH device filter from", cgroupDirectory);
    }

    private static unsafe SafeFileHandle Load(byte[] program, string cgroupDirectory)
    {
        var license = System.Text.Encoding.ASCII.GetBytes(License + "\0");
        var fd = TryLoad(program, license, log: null);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EPERM)
        {
            throw new Core.InvalidArgumentException(
                $"linux.resources.devices: the kernel refused to load a cgroup device program for {cgroupDirectory} (bpf(2) needs CAP_SYS_ADMIN or CAP_BPF): {Errno.Describe(errno)}");
        }
        // Load again with the verifier's log: its last lines say which instruction it refused.
        var log = new byte[VerifierLogSize];
        TryLoad(program, license, log);
        var text = System.Text.Encoding.ASCII.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0))).Trim();
        throw new Core.InvalidArgumentException(
            $"linux.resources.devices: the kernel refused the cgroup device program for {cgroupDirectory}: {Errno.Describe(errno)}"
            + (text.Length > 0 ? $"; verifier: {text[Math.Max(0, text.Length - 400)..]}" : ""));
    }

    private static unsafe int TryLoad(byte[] program, byte[] license, byte[]? log)
    {
        fixed (byte* instructions = program, licenseText = license, logBuffer = log)
        {
            var load = new LibC.BpfProgLoadAttr
            {
                ProgType = LibC.BPF_PROG_TYPE_CGROUP_DEVICE,
                InsnCount = (uint)(program.Length / BpfInstruction.Size),
                Insns = (ulong)instructions,
                License = (ulong)licenseText,
                LogLevel = log is null ? 0u : 1u,
                LogSize = log is null ? 0u : (uint)log.Length,
                LogBuf = (ulong)logBuffer,
                ExpectedAttachType = LibC.BPF_CGROUP_DEVICE,
            };
            var name = System.Text.Encoding.ASCII.GetBytes(ProgramName);
            for (var i = 0; i < name.Length && i < 15; i++)
            {
                load.ProgName[i] = name[i];
            }
            return LibC.bpf(LibC.BPF_PROG_LOAD, ref load);
        }
    }

    private static SafeFileHandle OpenCgroup(string cgroupDirectory) =>
        new(Errno.Check(LibC.open(cgroupDirectory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", cgroupDirectory), ownsHandle: true);

    private static uint Fd(SafeFileHandle handle) => (uint)handle.DangerousGetHandle();
}
