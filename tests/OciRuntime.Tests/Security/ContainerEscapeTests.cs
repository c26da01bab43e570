using System.Runtime.InteropServices;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Security;

/// <summary>
/// Regression tests for runc's container-escape CVEs, each on real containers: every test
/// sets up what the exploit needs and fails if the runtime did what the vulnerable runc did.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ContainerEscapeTests : IAsyncLifetime
{
    private const int EROFS = 30;
    private const int ETXTBSY = 26;

    private readonly CliContainer _container = new("escape");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    private string Rootfs => _container.Bundle.Rootfs;

    /// <summary>A host directory outside the rootfs that a redirected mount would land in; it must stay empty.</summary>
    private string CreateOutsideDirectory()
    {
        var outside = Path.Combine(_container.Bundle.Directory, "outside");
        Directory.CreateDirectory(outside);
        return outside;
    }

    /// <summary>
    /// CVE-2019-5736: a container process opens /proc/PID/exe of the runtime while it runs in
    /// the container (here: the init before `start`; the host's root stands in for a container
    /// with CAP_SYS_PTRACE), and once the runtime has exec'd away, reopens that descriptor for
    /// writing to overwrite the runtime's binary on the host.
    /// </summary>
    [Fact]
    public async Task Cve2019_5736_RuntimeBinaryBehindProcPidExe_CannotBeOpenedForWriting()
    {
        var spec = _container.Bundle.WriteConfig("sleep", "30");
        var pid = await _container.CreateAsync(spec);
        var exe = open($"/proc/{pid}/exe", O_RDONLY | O_CLOEXEC, 0);
        Assert.True(exe >= 0, $"open /proc/{pid}/exe: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
            await _container.WaitForStatusAsync("running");
            // The file is no longer being executed by the init (it is `sleep` now), so only the
            // mount it was executed from stands between this open and the host's binary.
            var writable = open($"/proc/self/fd/{exe}", O_WRONLY | O_APPEND | O_CLOEXEC, 0);
            var errno = Marshal.GetLastPInvokeError();
            if (writable >= 0)
            {
                close(writable);
            }

            Assert.True(writable < 0, "the runtime binary behind the init's /proc/PID/exe was opened for writing");
            // EROFS, or ETXTBSY while another test happens to run the same binary; the mount
            // itself must be read-only either way.
            Assert.Contains(errno, new[] { EROFS, ETXTBSY });
            Assert.True(MountFlags.IsReadOnly(exe), "the runtime binary was executed from a writable mount");
            // The control: the same file through its host path is on a writable mount.
            var direct = open(_container.Runtime, O_RDONLY | O_CLOEXEC, 0);
            Assert.True(direct >= 0);
            Assert.False(MountFlags.IsReadOnly(direct), "the host path of the runtime is on a read-only mount: this test proves nothing here");
            close(direct);
        }
        finally
        {
            close(exe);
        }
    }

    /// <summary>CVE-2024-21626: process.cwd /proc/self/fd/N follows a descriptor the runtime left open, possibly to a host directory.</summary>
    [Fact]
    public async Task Cve2024_21626_CwdThroughProcSelfFd_NeverStartsTheProcess()
    {
        for (var fd = 3; fd <= 12; fd++)
        {
            var spec = _container.Bundle.WriteConfig("sh", "-c", "echo started-in; pwd");
            spec = spec with { Process = spec.Process! with { Cwd = $"/proc/self/fd/{fd}" } };

            var (result, output) = await _container.RunAsync(spec);
            await _container.VerbAsync("delete", "--force", _container.Id);

            Assert.True(result.ExitCode != 0, $"cwd /proc/self/fd/{fd}: {result}{output}");
            Assert.DoesNotContain("started-in", output);
        }
    }

    [Fact]
    public async Task Cve2024_21626_ExecCwdThroughProcSelfFd_NeverStartsTheProcess()
    {
        await _container.CreateAsync(_container.Bundle.WriteConfig("sleep", "30"));
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        await _container.WaitForStatusAsync("running");

        for (var fd = 3; fd <= 12; fd++)
        {
            var result = await _container.ExecAsync("--cwd", $"/proc/self/fd/{fd}", _container.Id, "sh", "-c", "echo started-in; pwd");

            Assert.True(result.ExitCode != 0, $"exec --cwd /proc/self/fd/{fd}: {result}");
            Assert.DoesNotContain("started-in", result.Stdout);
        }
        // The control: a plain cwd works, so the failures above are the cwd's.
        var plain = await _container.ExecAsync("--cwd", "/bin", _container.Id, "pwd");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal("/bin\n", plain.Stdout);
    }

    /// <summary>
    /// CVE-2019-19921 / CVE-2023-27561 family: a symlink in the image (absolute, or a chain of
    /// "..") on a mount destination must resolve as if the rootfs were "/", never on the host.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Cve2019_19921_SymlinkedMountDestination_StaysInsideTheRootfs(bool absolute)
    {
        var outside = CreateOutsideDirectory();
        var target = absolute ? outside : "../../../../../../../../../.." + outside;
        File.CreateSymbolicLink(Path.Combine(Rootfs, "escape"), target);
        var spec = _container.Bundle.WriteConfig("sh", "-c", $"grep ' {outside}/mnt ' /proc/self/mountinfo");
        spec = spec with { Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/escape/mnt", Type = "tmpfs", Source = "tmpfs", Options = ["size=1m"] }] };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        // The mount is there, where the link points inside the container.
        Assert.True(Directory.Exists(Rootfs + outside + "/mnt"), "the mount point was not created inside the rootfs");
        Assert.Contains(" tmpfs ", output);
    }

    /// <summary>CVE-2019-16884: the image replaces /proc by a symlink so procfs gets mounted somewhere else.</summary>
    [Fact]
    public async Task Cve2019_16884_ProcIsASymlink_ProcfsStaysInsideTheRootfs()
    {
        var outside = CreateOutsideDirectory();
        File.CreateSymbolicLink(Path.Combine(Rootfs, "proc"), outside + "/proc");
        var spec = _container.Bundle.WriteConfig("sh", "-c", "echo ran");

        var (result, output) = await _container.RunAsync(spec);

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.True(result.ExitCode == 0, result + output);
        Assert.True(Directory.Exists(Rootfs + outside + "/proc"), "procfs' mount point was not created inside the rootfs");
    }

    /// <summary>
    /// CVE-2021-30465 without the race: a volume (shared with another container, which put a
    /// symlink to "/" in it) is mounted first, then a second mount goes through that symlink.
    /// </summary>
    [Fact]
    public async Task Cve2021_30465_MountThroughSymlinkInAnEarlierVolume_StaysInsideTheRootfs()
    {
        var volume = Path.Combine(_container.Bundle.Directory, "volume");
        Directory.CreateDirectory(volume);
        File.CreateSymbolicLink(Path.Combine(volume, "link"), "/");
        var name = "crioci-escape-" + _container.Id;
        var spec = _container.Bundle.WriteConfig("sh", "-c", $"grep ' /{name} ' /proc/self/mountinfo");
        spec = spec with
        {
            Mounts =
            [
                .. spec.Mounts!,
                new MountSpec { Destination = "/vol", Type = "bind", Source = volume, Options = ["rbind"] },
                new MountSpec { Destination = $"/vol/link/{name}", Type = "tmpfs", Source = "tmpfs", Options = ["size=1m"] },
            ],
        };

        try
        {
            var (result, output) = await _container.RunAsync(spec);

            Assert.False(Directory.Exists("/" + name), $"/{name} was created on the host");
            Assert.True(result.ExitCode == 0, result + output);
            Assert.True(Directory.Exists(Path.Combine(Rootfs, name)), "the mount point was not created inside the rootfs");
            Assert.Contains(" tmpfs ", output);
        }
        finally
        {
            if (Directory.Exists("/" + name))
            {
                Directory.Delete("/" + name);
            }
        }
    }

    /// <summary>
    /// CVE-2025-31133: the container's /dev/null is a symlink (here in an image without a /dev
    /// mount), so binding "/dev/null" over masked paths would bind the link's target there.
    /// </summary>
    [Fact]
    public async Task Cve2025_31133_DevNullIsASymlink_IsNeverBoundOverMaskedPaths()
    {
        File.WriteAllText(Path.Combine(Rootfs, "not-null"), "not-the-null-device\n");
        Directory.CreateDirectory(Path.Combine(Rootfs, "dev"));
        File.CreateSymbolicLink(Path.Combine(Rootfs, "dev", "null"), "/not-null");
        var spec = _container.Bundle.WriteConfig("sh", "-c", "cat /proc/kcore /proc/timer_list 2>&1 | head -c 100");
        spec = spec with
        {
            Mounts = spec.Mounts!.Where(m => !m.Destination.StartsWith("/dev", StringComparison.Ordinal)).ToList(),
            Linux = spec.Linux! with { MaskedPaths = ["/proc/kcore", "/proc/timer_list"] },
        };

        var (result, output) = await _container.RunAsync(spec);

        Assert.DoesNotContain("not-the-null-device", output);
        Assert.True(result.ExitCode != 0, result + output);
        Assert.Contains("/dev/null is not the null device", output);
    }
}
