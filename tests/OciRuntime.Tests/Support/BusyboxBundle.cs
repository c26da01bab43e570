using System.Text.Json;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Tests.Support;

/// <summary>
/// A temporary OCI bundle whose rootfs is Debian's static busybox, plus a runtime state root
/// beside it. Dispose kills whatever container is still alive under that root and deletes
/// everything, so a failed assertion leaves no process or directory behind.
/// </summary>
internal sealed class BusyboxBundle : IDisposable
{
    public static readonly string[] Applets = ["sh", "echo", "cat", "hostname", "sleep", "id", "tty", "stty", "ls", "uname", "true", "pwd"];

    public const string Hostname = "crioci-test-host";

    public BusyboxBundle()
    {
        RuntimeBinary.RequireRoot();
        Directory = System.IO.Directory.CreateTempSubdirectory("crioci-bundle-").FullName;
        Bundle = Path.Combine(Directory, "bundle");
        Rootfs = Path.Combine(Bundle, "rootfs");
        StateRoot = Path.Combine(Directory, "state");
        var bin = Path.Combine(Rootfs, "bin");
        System.IO.Directory.CreateDirectory(bin);
        File.Copy(RuntimeBinary.RequireBusybox(), Path.Combine(bin, "busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }
    }

    /// <summary>Holds bundle/, bundle/rootfs/, state/ and the test's output files.</summary>
    public string Directory { get; }

    public string Bundle { get; }

    public string Rootfs { get; }

    public string StateRoot { get; }

    /// <summary>Writes config.json for a container running <paramref name="args"/>.</summary>
    public RuntimeSpec WriteConfig(params string[] args)
    {
        var spec = new RuntimeSpec
        {
            Process = new ProcessSpec
            {
                Args = args,
                Env = ["PATH=/bin", "TERM=xterm"],
                Cwd = "/",
                User = new UserSpec { Uid = 0, Gid = 0 },
                Capabilities = new CapabilitiesSpec
                {
                    Bounding = SpecDefaults.Capabilities,
                    Effective = SpecDefaults.Capabilities,
                    Permitted = SpecDefaults.Capabilities,
                },
                NoNewPrivileges = true,
            },
            Root = new RootSpec { Path = "rootfs" },
            Hostname = Hostname,
            Mounts =
            [
                new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
                new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
                new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
            ],
            Linux = new LinuxSpec
            {
                Namespaces =
                [
                    new() { Type = "pid" }, new() { Type = "mount" }, new() { Type = "uts" },
                    new() { Type = "ipc" }, new() { Type = "network" },
                ],
                MaskedPaths = SpecDefaults.MaskedPaths,
                ReadonlyPaths = SpecDefaults.ReadonlyPaths,
            },
        };
        File.WriteAllBytes(Path.Combine(Bundle, "config.json"), JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));
        return spec;
    }

    /// <summary>Writes <paramref name="spec"/> as the bundle's config.json (after changing what <see cref="WriteConfig"/> wrote).</summary>
    public void WriteSpec(RuntimeSpec spec) =>
        File.WriteAllBytes(Path.Combine(Bundle, "config.json"), JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));

    /// <summary>A config.json whose process runs <paramref name="args"/> on a terminal of the given size.</summary>
    public RuntimeSpec WriteTerminalConfig(uint width, uint height, params string[] args)
    {
        var spec = WriteConfig(args);
        spec = spec with { Process = spec.Process! with { Terminal = true, ConsoleSize = new ConsoleSizeSpec { Width = width, Height = height } } };
        WriteSpec(spec);
        return spec;
    }

    /// <summary>SIGKILLs every init recorded under the state root that is still the same live process.</summary>
    public void KillAll()
    {
        if (!System.IO.Directory.Exists(StateRoot))
        {
            return;
        }
        foreach (var directory in System.IO.Directory.EnumerateDirectories(StateRoot))
        {
            var state = new StateDirectory(StateRoot, Path.GetFileName(directory)).ReadState();
            if (state is not null && ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(state.InitPid).Kill();
                }
                catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
                {
                    // Gone between the check and the kill.
                }
                WaitUntilGone(state.InitPid, state.InitStartTime);
            }
        }
    }

    private static void WaitUntilGone(int pid, ulong startTime)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ProcStat.IsSameLiveProcess(pid, startTime) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
    }

    /// <summary>Mount points the host sees under this bundle (there must be none: the container's live in its own namespace).</summary>
    public IReadOnlyList<string> HostMountsUnderDirectory() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(mountPoint => mountPoint.StartsWith(Directory, StringComparison.Ordinal))
            .ToList();

    public void Dispose()
    {
        KillAll();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
