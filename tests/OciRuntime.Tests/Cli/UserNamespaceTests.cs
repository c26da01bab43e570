using System.Diagnostics;
using System.Text.RegularExpressions;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// linux.namespaces "user" with id maps, driven through the published crioci-runtime: the
/// container's root is host uid 100000, seen from inside, from the host and on the files it
/// writes; joining by path; exec; and configurations refused before anything exists.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed partial class UserNamespaceTests : IAsyncLifetime
{
    private const uint HostRoot = 100000;
    private const uint RangeSize = 65536;

    private readonly CliContainer _container = new("userns");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    [Fact]
    public async Task Run_NewUserNamespace_RootInsideWithTheConfiguredMaps()
    {
        var spec = UserNamespaceSpec(_container, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; cat /proc/self/cgroup");
        // A cgroup namespace too: the init, in its user namespace, cannot join the cgroup itself.
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "cgroup" }],
                CgroupsPath = "/crioci-tests/" + _container.Id,
            },
        };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var lines = Lines(output);
        Assert.Equal($"0 {HostRoot} {RangeSize}", lines[0]);
        Assert.Equal($"0 {HostRoot} {RangeSize}", lines[1]);
        Assert.Equal("0", lines[2]);
        Assert.Equal("0", lines[3]);
        Assert.All(lines[4..], line => Assert.EndsWith(":/", line));
    }

    [Fact]
    public async Task Run_UserAndTimeNamespaces_OffsetAppliesInside()
    {
        const long Offset = 10L * 365 * 86400;
        var spec = UserNamespaceSpec(_container, "cat", "/proc/uptime");
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "time" }],
                TimeOffsets = new Dictionary<string, TimeOffsetSpec> { ["boottime"] = new() { Secs = Offset } },
            },
        };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var inside = double.Parse(output.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(inside >= Offset, $"uptime inside {inside}, offset {Offset}");
    }

    [Fact]
    public async Task Run_UserNamespaceOnTheHostsNetwork_SysIsTheHostsBoundReadOnly()
    {
        // sysfs cannot be mounted for a network namespace the user namespace does not own.
        var spec = UserNamespaceSpec(_container, "sh", "-c", "ls /sys/class/net; grep ' /sys ' /proc/self/mountinfo");
        spec = spec with { Linux = spec.Linux! with { Namespaces = [.. spec.Linux!.Namespaces!.Where(n => n.Type != "network")] } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var lines = Lines(output);
        Assert.Contains("lo", lines);
        // mountinfo: the fifth field is the mount point, the sixth its options.
        var sys = lines.Select(line => line.Split(' ')).Where(fields => fields.Length > 5 && fields[4] == "/sys").ToList();
        Assert.True(sys.Count == 1, output);
        Assert.StartsWith("ro,", sys[0][5]);
    }

    [Fact]
    public async Task Start_NewUserNamespace_HostSeesMappedUidAndFileOwner()
    {
        var shared = Path.Combine(_container.Bundle.Directory, "shared");
        Directory.CreateDirectory(shared);
        Chown(shared);
        var spec = UserNamespaceSpec(_container, "sh", "-c", "echo written > /shared/by-container && sleep 1000");
        spec = spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/shared", Type = "bind", Source = shared, Options = ["rbind", "rw"] }] };

        var pid = await _container.CreateAsync(spec);
        var start = await _container.VerbAsync("start", _container.Id);
        Assert.True(start.ExitCode == 0, start.ToString());
        var file = Path.Combine(shared, "by-container");
        await WaitForAsync(() => File.Exists(file) && File.ReadAllText(file) == "written\n", $"{file} never written");

        Assert.Equal($"{HostRoot} {HostRoot} {HostRoot} {HostRoot}", StatusIds(pid, "Uid"));
        Assert.Equal($"{HostRoot} {HostRoot} {HostRoot} {HostRoot}", StatusIds(pid, "Gid"));
        Assert.Equal($"{HostRoot}:{HostRoot}", Owner(file));
        Assert.NotEqual(File.ReadAllText("/proc/self/uid_map"), File.ReadAllText($"/proc/{pid}/uid_map"));
    }

    [Fact]
    public async Task Exec_IntoUserNamespaceContainer_SeesTheSameMapsAsRoot()
    {
        var pid = await _container.CreateAsync(UserNamespaceSpec(_container, "sleep", "1000"));
        var start = await _container.VerbAsync("start", _container.Id);
        Assert.True(start.ExitCode == 0, start.ToString());

        var exec = await _container.ExecAsync(_container.Id, "sh", "-c", "cat /proc/self/uid_map; id -u; readlink /proc/self/ns/user");

        Assert.True(exec.ExitCode == 0, exec.ToString());
        var lines = Lines(exec.Stdout);
        Assert.Equal($"0 {HostRoot} {RangeSize}", lines[0]);
        Assert.Equal("0", lines[1]);
        Assert.Equal(new FileInfo($"/proc/{pid}/ns/user").LinkTarget, lines[2]);
    }

    [Fact]
    public async Task Create_JoinUserNamespaceByPath_SharesTheNamespaceAndOwnsItsOthers()
    {
        var first = await _container.CreateAsync(UserNamespaceSpec(_container, "sleep", "1000"));
        await using var second = new CliContainer("userns-join");
        var spec = UserNamespaceSpec(second, "sh", "-c", "cat /proc/self/uid_map; id -u; hostname");
        // No maps: the namespace is joined as it is. Its other namespaces are new, created inside it.
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                UidMappings = null,
                GidMappings = null,
                Namespaces = [.. spec.Linux!.Namespaces!.Where(n => n.Type != "user"), new NamespaceSpec { Type = "user", Path = $"/proc/{first}/ns/user" }],
            },
        };

        var joined = await second.CreateAsync(spec);

        Assert.Equal(new FileInfo($"/proc/{first}/ns/user").LinkTarget, new FileInfo($"/proc/{joined}/ns/user").LinkTarget);
        Assert.Equal($"{HostRoot} {HostRoot} {HostRoot} {HostRoot}", StatusIds(joined, "Uid"));
        // The new namespaces belong to the joined user namespace, so the init could mount proc
        // and set the hostname in them; they are not the first container's.
        Assert.NotEqual(new FileInfo($"/proc/{first}/ns/pid").LinkTarget, new FileInfo($"/proc/{joined}/ns/pid").LinkTarget);
        var start = await second.VerbAsync("start", second.Id);
        Assert.True(start.ExitCode == 0, start.ToString());
        await second.WaitForStatusAsync("stopped");
        var lines = Lines(File.ReadAllText(second.StdoutFile));
        Assert.Equal($"0 {HostRoot} {RangeSize}", lines[0]);
        Assert.Equal("0", lines[1]);
        Assert.Equal(BusyboxBundle.Hostname, lines[2]);
    }

    [Fact]
    public async Task Run_IdmappedBindMount_HostRootFilesBelongToTheContainersRoot()
    {
        var data = Path.Combine(_container.Bundle.Directory, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "host-file"), "x");
        var spec = UserNamespaceSpec(_container, "sh", "-c", "ls -ln /data/host-file /plain/host-file && echo y > /data/from-container");
        spec = spec with
        {
            Mounts =
            [
                .. spec.Mounts!,
                new MountSpec
                {
                    Destination = "/data", Type = "bind", Source = data, Options = ["rbind", "rw", "idmap"],
                    UidMappings = [Map(0, HostRoot, RangeSize)], GidMappings = [Map(0, HostRoot, RangeSize)],
                },
                // The same directory without the id-mapping, as the control: its root-owned file is no one's inside.
                new MountSpec { Destination = "/plain", Type = "bind", Source = data, Options = ["rbind", "ro"] },
            ],
        };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var lines = Lines(output);
        Assert.Matches("^-\\S+ 1 0 0 .*/data/host-file$", lines[0]);
        Assert.Matches("^-\\S+ 1 65534 65534 .*/plain/host-file$", lines[1]);
        // Written by the container's root (host uid 100000) through the id-mapped mount: on disk, the host's root.
        Assert.Equal("0:0", Owner(Path.Combine(data, "from-container")));
        Assert.Empty(_container.Bundle.HostMountsUnderDirectory());
    }

    public static TheoryData<string, Func<RuntimeSpec, RuntimeSpec>> BadConfigurations => new()
    {
        {
            "uidMappings/gidMappings need the \"idmap\" or \"ridmap\" option",
            spec => spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/data", Type = "bind", Source = "/tmp", Options = ["rbind"], UidMappings = [Map(0, HostRoot, 1)], GidMappings = [Map(0, HostRoot, 1)] }] }
        },
        {
            "\"idmap\" and \"ridmap\" apply to bind mounts only",
            spec => spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/data", Type = "tmpfs", Source = "tmpfs", Options = ["idmap"] }] }
        },
        {
            "mounts[/data].uidMappings: {containerID 5, hostID 200000, size 10} and {containerID 0, hostID 100000, size 10} overlap inside the container",
            spec => spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/data", Type = "bind", Source = "/tmp", Options = ["rbind", "idmap"], UidMappings = [Map(0, HostRoot, 10), Map(5, 200000, 10)], GidMappings = [Map(0, HostRoot, 1)] }] }
        },
        {
            "linux.uidMappings/gidMappings are set but linux.namespaces has no user namespace",
            spec => spec with { Linux = spec.Linux! with { Namespaces = [.. spec.Linux!.Namespaces!.Where(n => n.Type != "user")] } }
        },
        {
            "a new user namespace needs linux.uidMappings and linux.gidMappings",
            spec => spec with { Linux = spec.Linux! with { UidMappings = null, GidMappings = null } }
        },
        {
            "do not match the maps of the user namespace to join",
            spec => spec with { Linux = spec.Linux! with { Namespaces = [.. spec.Linux!.Namespaces!.Where(n => n.Type != "user"), new NamespaceSpec { Type = "user", Path = $"/proc/{Environment.ProcessId}/ns/user" }] } }
        },
        {
            "overlap on the host",
            spec => spec with { Linux = spec.Linux! with { UidMappings = [Map(0, HostRoot, 1000), Map(1000, HostRoot + 500, 1000)] } }
        },
        {
            "overlap inside the container",
            spec => spec with { Linux = spec.Linux! with { GidMappings = [Map(0, HostRoot, 1000), Map(500, HostRoot + 5000, 10)] } }
        },
        {
            "maps no ids (size 0)",
            spec => spec with { Linux = spec.Linux! with { UidMappings = [Map(0, HostRoot, 0)] } }
        },
        {
            "no range maps id 0",
            spec => spec with { Linux = spec.Linux! with { UidMappings = [Map(1, HostRoot, RangeSize)] } }
        },
        {
            "goes past the largest id",
            spec => spec with { Linux = spec.Linux! with { UidMappings = [Map(0, uint.MaxValue - 10, 100)] } }
        },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task Run_BadUserNamespaceConfiguration_FailsClearlyLeavingNothing(string expected, Func<RuntimeSpec, RuntimeSpec> spoil)
    {
        var cgroupsPath = "/crioci-tests/" + _container.Id;
        var spec = UserNamespaceSpec(_container, "true");
        spec = spoil(spec with { Linux = spec.Linux! with { CgroupsPath = cgroupsPath } });

        var (result, output) = await _container.RunAsync(spec);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, output);
        Assert.False(Directory.Exists(Path.Combine(_container.Bundle.StateRoot, _container.Id)), "state directory left behind");
        Assert.Empty(_container.Bundle.HostMountsUnderDirectory());
        var hierarchy = CgroupHierarchy.Detect();
        Assert.All(hierarchy.Mounts, mount => Assert.False(Directory.Exists(mount.MountPoint + cgroupsPath), $"cgroup {mount.MountPoint + cgroupsPath} left behind"));
    }

    [Fact]
    public async Task Features_ListsUserNamespacesAndIdmappedMounts()
    {
        var result = await _container.VerbAsync("features");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var linux = document.RootElement.GetProperty("linux");
        Assert.Contains("user", linux.GetProperty("namespaces").EnumerateArray().Select(e => e.GetString()));
        Assert.True(linux.GetProperty("mountExtensions").GetProperty("idmap").GetProperty("enabled").GetBoolean());
        var mountOptions = document.RootElement.GetProperty("mountOptions").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("idmap", mountOptions);
        Assert.Contains("ridmap", mountOptions);
    }

    private static IdMappingSpec Map(uint containerId, uint hostId, uint size) => new() { ContainerId = containerId, HostId = hostId, Size = size };

    /// <summary>
    /// The busybox config with a new user namespace mapping 0..65535 to 100000..165535, and the
    /// rootfs given to that root. The bundle's directory is opened to it: as with runc, the
    /// container's root must be able to reach the bundle.
    /// </summary>
    private static RuntimeSpec UserNamespaceSpec(CliContainer container, params string[] args)
    {
        var spec = container.Bundle.WriteConfig(args);
        File.SetUnixFileMode(container.Bundle.Directory,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Chown(container.Bundle.Rootfs);
        return spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "user" }],
                UidMappings = [Map(0, HostRoot, RangeSize)],
                GidMappings = [Map(0, HostRoot, RangeSize)],
            },
        };
    }

    private static void Chown(string path)
    {
        var result = RunTool("chown", "-R", "-h", $"{HostRoot}:{HostRoot}", path);
        Assert.True(result.ExitCode == 0, $"chown {path}: {result.Output}");
    }

    private static string Owner(string path)
    {
        var result = RunTool("stat", "-c", "%u:%g", path);
        Assert.True(result.ExitCode == 0, $"stat {path}: {result.Output}");
        return result.Output.Trim();
    }

    private static (int ExitCode, string Output) RunTool(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        // chown and stat print a line or two: reading one stream after the other cannot fill a pipe.
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error);
    }

    /// <summary>The four ids (real, effective, saved, filesystem) of a /proc/PID/status line.</summary>
    private static string StatusIds(int pid, string field) =>
        string.Join(' ', File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..]);

    /// <summary>Output lines with runs of blanks made single (uid_map pads its columns).</summary>
    private static string[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => Blanks().Replace(line.Trim(), " ")).ToArray();

    private static async Task WaitForAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    [GeneratedRegex("\\s+")]
    private static partial Regex Blanks();
}
