using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Seccomp;

/// <summary>
/// Loads a runtime-spec seccomp profile (config-linux.md "Seccomp") into the calling thread
/// through libseccomp. Syscall names this architecture does not have are skipped, as runc
/// does, so one profile serves every architecture.
/// </summary>
public static class SeccompFilter
{
    private static readonly Dictionary<string, int> Operators = new(StringComparer.Ordinal)
    {
        ["SCMP_CMP_NE"] = 1,
        ["SCMP_CMP_LT"] = 2,
        ["SCMP_CMP_LE"] = 3,
        ["SCMP_CMP_EQ"] = 4,
        ["SCMP_CMP_GE"] = 5,
        ["SCMP_CMP_GT"] = 6,
        ["SCMP_CMP_MASKED_EQ"] = 7,
    };

    /// <summary>
    /// Loads libseccomp now. The init and exec-init call this before they change their root:
    /// afterwards the library would be looked up inside the container's file system.
    /// </summary>
    public static void Preload()
    {
        try
        {
            _ = LibSeccomp.seccomp_arch_native();
        }
        catch (DllNotFoundException exception)
        {
            throw new Core.InvalidArgumentException($"linux.seccomp needs libseccomp.so.2 (Debian package libseccomp2): {exception.Message}");
        }
    }

    /// <summary>Validates a profile without loading it: every action, operator, architecture and flag must be known.</summary>
    public static void Validate(SeccompSpec profile)
    {
        Action(profile.DefaultAction, profile.DefaultErrnoRet);
        foreach (var architecture in profile.Architectures ?? [])
        {
            ArchitectureName(architecture);
        }
        foreach (var flag in profile.Flags ?? [])
        {
            if (flag is not ("SECCOMP_FILTER_FLAG_TSYNC" or "SECCOMP_FILTER_FLAG_LOG" or "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
            {
                throw new Core.InvalidArgumentException($"linux.seccomp.flags: unsupported flag {flag}");
            }
        }
        // JSON nulls deserialize as null whatever the spec's types say: explicit "names": null or
        // a null entry must be refused here, not met by Load inside the container's init.
        foreach (var syscall in profile.Syscalls ?? [])
        {
            if (syscall?.Names is not { } names || names.Any(name => name is null))
            {
                throw new Core.InvalidArgumentException("linux.seccomp.syscalls: every entry needs names, none of them null");
            }
            Action(syscall.Action, syscall.ErrnoRet);
            foreach (var argument in syscall.Args ?? [])
            {
                if (argument?.Op is null || !Operators.ContainsKey(argument.Op))
                {
                    throw new Core.InvalidArgumentException($"linux.seccomp: unknown operator {argument?.Op}");
                }
                if (argument.Index > 5)
                {
                    throw new Core.InvalidArgumentException($"linux.seccomp: argument index {argument.Index} is above 5");
                }
            }
        }
    }

    public static void Load(SeccompSpec profile)
    {
        var context = Build(profile);
        try
        {
            Check(LibSeccomp.seccomp_load(context), "seccomp_load");
        }
        finally
        {
            LibSeccomp.seccomp_release(context);
        }
    }

    /// <summary>
    /// The BPF program <see cref="Load"/> would load (libseccomp's seccomp_export_bpf, through a
    /// memfd), for a process started without this runtime in between (Launch/DirectExec).
    /// </summary>
    public static byte[] Compile(SeccompSpec profile)
    {
        var context = Build(profile);
        var memfd = Linux.Errno.Check(Linux.Interop.LibC.memfd_create("crioci-seccomp", Linux.Interop.LibC.MFD_CLOEXEC), "memfd_create", "seccomp");
        try
        {
            Check(LibSeccomp.seccomp_export_bpf(context, memfd), "seccomp_export_bpf");
            using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(memfd, ownsHandle: false), FileAccess.Read, bufferSize: 0);
            stream.Position = 0;
            using var program = new MemoryStream();
            stream.CopyTo(program);
            return program.ToArray();
        }
        finally
        {
            Linux.Interop.LibC.close(memfd);
            LibSeccomp.seccomp_release(context);
        }
    }

    /// <summary>The seccomp(2) SECCOMP_FILTER_FLAG_* bits for the profile's flags, which <see cref="Load"/> leaves to libseccomp.</summary>
    public static uint KernelFlags(SeccompSpec profile)
    {
        uint flags = 0;
        foreach (var flag in profile.Flags ?? [])
        {
            flags |= flag switch
            {
                "SECCOMP_FILTER_FLAG_TSYNC" => 1u,
                "SECCOMP_FILTER_FLAG_LOG" => 2u,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => 4u,
                _ => throw new Core.InvalidArgumentException($"linux.seccomp.flags: unsupported flag {flag}"),
            };
        }
        return flags;
    }

    /// <summary>A libseccomp filter context for the profile; the caller releases it.</summary>
    private static nint Build(SeccompSpec profile)
    {
        Validate(profile);
        if (profile.DefaultAction == "SCMP_ACT_NOTIFY" || profile.Syscalls?.Any(s => s.Action == "SCMP_ACT_NOTIFY") == true)
        {
            throw new Core.InvalidArgumentException("linux.seccomp: SCMP_ACT_NOTIFY (listenerPath) is not supported yet");
        }
        var context = LibSeccomp.seccomp_init(Action(profile.DefaultAction, profile.DefaultErrnoRet));
        if (context == 0)
        {
            throw new Core.InvalidArgumentException("linux.seccomp: libseccomp could not create a filter");
        }
        try
        {
            // no_new_privs is the spec's to decide (process.noNewPrivileges), not libseccomp's.
            Check(LibSeccomp.seccomp_attr_set(context, LibSeccomp.SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set NNP");
            foreach (var flag in profile.Flags ?? [])
            {
                var attribute = flag switch
                {
                    "SECCOMP_FILTER_FLAG_TSYNC" => LibSeccomp.SCMP_FLTATR_CTL_TSYNC,
                    "SECCOMP_FILTER_FLAG_LOG" => LibSeccomp.SCMP_FLTATR_CTL_LOG,
                    _ => LibSeccomp.SCMP_FLTATR_CTL_SSB,
                };
                Check(LibSeccomp.seccomp_attr_set(context, attribute, 1), $"seccomp flag {flag}");
            }
            foreach (var architecture in profile.Architectures ?? [])
            {
                var token = LibSeccomp.seccomp_arch_resolve_name(ArchitectureName(architecture));
                // EEXIST: the native architecture is always in the filter already.
                var result = LibSeccomp.seccomp_arch_add(context, token);
                if (result < 0 && result != -Linux.Errno.EEXIST)
                {
                    Check(result, $"seccomp_arch_add {architecture}");
                }
            }
            foreach (var rule in profile.Syscalls ?? [])
            {
                var action = Action(rule.Action, rule.ErrnoRet);
                foreach (var name in rule.Names)
                {
                    var number = LibSeccomp.seccomp_syscall_resolve_name(name);
                    if (number == LibSeccomp.NR_SCMP_ERROR)
                    {
                        continue;
                    }
                    AddRule(context, action, number, name, rule.Args ?? []);
                }
            }
            return context;
        }
        catch
        {
            LibSeccomp.seccomp_release(context);
            throw;
        }
    }

    /// <summary>
    /// libseccomp allows one comparison per argument in a rule; several comparisons of the
    /// same argument become separate rules (any of them matching), as runc does.
    /// </summary>
    private static unsafe void AddRule(nint context, uint action, int syscall, string name, IReadOnlyList<SeccompArgSpec> arguments)
    {
        var sameIndexTwice = arguments.GroupBy(a => a.Index).Any(g => g.Count() > 1);
        var groups = sameIndexTwice ? arguments.Select(a => new[] { a }).ToList() : [arguments.ToArray()];
        // A syscall has at most six arguments, so no rule compares more than six.
        var comparisons = stackalloc LibSeccomp.ArgumentComparison[6];
        foreach (var group in groups)
        {
            for (var i = 0; i < group.Length; i++)
            {
                comparisons[i] = new LibSeccomp.ArgumentComparison
                {
                    Argument = group[i].Index,
                    Operator = Operators[group[i].Op],
                    DatumA = group[i].Value,
                    DatumB = group[i].ValueTwo,
                };
            }
            var result = LibSeccomp.seccomp_rule_add_array(context, action, syscall, (uint)group.Length, comparisons);
            // A rule whose action equals the default action is redundant; libseccomp says EACCES.
            if (result < 0 && result != -Linux.Errno.EACCES)
            {
                Check(result, $"seccomp rule for {name}");
            }
        }
    }

    private static uint Action(string action, uint? errno) => action switch
    {
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => LibSeccomp.SCMP_ACT_KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS" => LibSeccomp.SCMP_ACT_KILL_PROCESS,
        "SCMP_ACT_TRAP" => LibSeccomp.SCMP_ACT_TRAP,
        "SCMP_ACT_ERRNO" => LibSeccomp.SCMP_ACT_ERRNO_BASE | ((errno ?? Linux.Errno.EPERM) & 0xffff),
        "SCMP_ACT_TRACE" => LibSeccomp.SCMP_ACT_TRACE_BASE | ((errno ?? Linux.Errno.EPERM) & 0xffff),
        "SCMP_ACT_ALLOW" => LibSeccomp.SCMP_ACT_ALLOW,
        "SCMP_ACT_LOG" => LibSeccomp.SCMP_ACT_LOG,
        "SCMP_ACT_NOTIFY" => LibSeccomp.SCMP_ACT_NOTIFY,
        _ => throw new Core.InvalidArgumentException($"linux.seccomp: unknown action {action}"),
    };

    private static string ArchitectureName(string architecture) => architecture switch
    {
        "SCMP_ARCH_X86" => "x86",
        "SCMP_ARCH_X86_64" => "x86_64",
        "SCMP_ARCH_X32" => "x32",
        "SCMP_ARCH_ARM" => "arm",
        "SCMP_ARCH_AARCH64" => "aarch64",
        "SCMP_ARCH_MIPS" => "mips",
        "SCMP_ARCH_MIPS64" => "mips64",
        "SCMP_ARCH_MIPS64N32" => "mips64n32",
        "SCMP_ARCH_MIPSEL" => "mipsel",
        "SCMP_ARCH_MIPSEL64" => "mipsel64",
        "SCMP_ARCH_MIPSEL64N32" => "mipsel64n32",
        "SCMP_ARCH_PPC" => "ppc",
        "SCMP_ARCH_PPC64" => "ppc64",
        "SCMP_ARCH_PPC64LE" => "ppc64le",
        "SCMP_ARCH_S390" => "s390",
        "SCMP_ARCH_S390X" => "s390x",
        "SCMP_ARCH_RISCV64" => "riscv64",
        _ => throw new Core.InvalidArgumentException($"linux.seccomp.architectures: unknown architecture {architecture}"),
    };

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new Linux.SyscallException(-result, what, null);
        }
    }
}
