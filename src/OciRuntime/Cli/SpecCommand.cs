using System.Text.Json;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Cli;

/// <summary>`spec [--bundle DIR]`: writes a default config.json (runs `sh` as root with the default mounts and namespaces).</summary>
internal static class SpecCommand
{
    public static int Run(CliArguments args)
    {
        var bundle = args.Flag("bundle", "b") ?? Directory.GetCurrentDirectory();
        var path = Path.Combine(bundle, "config.json");
        if (File.Exists(path))
        {
            throw new CliException($"{path} already exists; remove it first");
        }
        var spec = new RuntimeSpec
        {
            Process = new ProcessSpec
            {
                User = new UserSpec { Uid = 0, Gid = 0 },
                Args = ["sh"],
                Env = ["PATH=" + SpecDefaults.DefaultPath, "TERM=xterm"],
                Cwd = "/",
                Capabilities = new CapabilitiesSpec { Bounding = SpecDefaults.Capabilities, Effective = SpecDefaults.Capabilities, Permitted = SpecDefaults.Capabilities },
                Rlimits = [new RlimitSpec { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
                NoNewPrivileges = true,
            },
            Root = new RootSpec { Path = "rootfs", Readonly = true },
            Hostname = "crioci",
            Mounts = SpecDefaults.Mounts(),
            Linux = new LinuxSpec
            {
                Namespaces = [new() { Type = "pid" }, new() { Type = "network" }, new() { Type = "ipc" }, new() { Type = "uts" }, new() { Type = "mount" }],
                MaskedPaths = SpecDefaults.MaskedPaths,
                ReadonlyPaths = SpecDefaults.ReadonlyPaths,
                Resources = new ResourcesSpec { Devices = SpecDefaults.DeviceRules },
            },
        };
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));
        return 0;
    }
}
