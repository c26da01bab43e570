namespace CriOci.OciRuntime.Linux;

/// <summary>Capability names (linux/capability.h) and the host's limits on them.</summary>
public static class Capabilities
{
    private static readonly string[] Names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    public static IReadOnlyList<string> All => Names;

    /// <summary>The number of a capability named with or without the CAP_ prefix, any case.</summary>
    public static int? Number(string name)
    {
        var normalized = name.ToUpperInvariant();
        if (!normalized.StartsWith("CAP_", StringComparison.Ordinal))
        {
            normalized = "CAP_" + normalized;
        }
        var index = Array.IndexOf(Names, normalized);
        return index >= 0 ? index : null;
    }

    /// <summary>
    /// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap).
    /// </summary>
    public static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
        {
            return Names.Length - 1;
        }
    }

    /// <summary>The calling process's bounding set (CapBnd in /proc/self/status) as a bit mask.</summary>
    public static ulong BoundingSet()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapBnd:", StringComparison.Ordinal))
            {
                return ulong.Parse(line["CapBnd:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return ulong.MaxValue;
    }

    /// <summary>A mask from names; unknown names are an error that names them.</summary>
    public static ulong Mask(IEnumerable<string>? names)
    {
        ulong mask = 0;
        foreach (var name in names ?? [])
        {
            var number = Number(name) ?? throw new ArgumentException($"unknown capability {name}");
            mask |= 1UL << number;
        }
        return mask;
    }
}
