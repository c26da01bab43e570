using System.Text.Json;

namespace CriOci.OciRuntime.Cli;

/// <summary>`features`: what this runtime implements, as the runtime-spec's features document (features.md).</summary>
internal static class FeaturesCommand
{
    public static int Run()
    {
        using var output = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("ociVersionMin", "1.0.0");
            writer.WriteString("ociVersionMax", Spec.SpecDefaults.OciVersion);
            Strings(writer, "hooks", ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
            // The words MountOptions.Parse gives a meaning to, so this list cannot drift from it;
            // the recursive ones (rro, ...) only where this kernel has mount_setattr(2) to apply them.
            Strings(writer, "mountOptions", Init.MountOptions.KnownWords(Init.RecursiveMountAttributes.KernelSupports()).Order(StringComparer.Ordinal));
            writer.WriteStartObject("linux");
            Strings(writer, "namespaces", ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]);
            Strings(writer, "capabilities", Linux.Capabilities.All);
            writer.WriteStartObject("cgroup");
            writer.WriteBoolean("v1", true);
            writer.WriteBoolean("v2", true);
            writer.WriteBoolean("systemd", false);
            writer.WriteBoolean("systemdUser", false);
            writer.WriteEndObject();
            writer.WriteStartObject("seccomp");
            writer.WriteBoolean("enabled", true);
            Strings(writer, "actions", ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]);
            Strings(writer, "operators", ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]);
            Strings(writer, "archs", ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]);
            Strings(writer, "supportedFlags", ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]);
            writer.WriteEndObject();
            // Id-mapped bind mounts: mounts[].uidMappings/gidMappings with "idmap" or "ridmap" (Launch.IdmappedMounts).
            writer.WriteStartObject("mountExtensions");
            writer.WriteStartObject("idmap");
            writer.WriteBoolean("enabled", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
            // features-linux.md: "enabled" says the runtime implements the module, unrelated to
            // whether this host enforces it (create refuses a profile or label the host cannot apply).
            writer.WriteStartObject("apparmor");
            writer.WriteBoolean("enabled", true);
            writer.WriteEndObject();
            writer.WriteStartObject("selinux");
            writer.WriteBoolean("enabled", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        return 0;
    }

    private static void Strings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }
        writer.WriteEndArray();
    }
}
