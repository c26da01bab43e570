using System.Diagnostics;

namespace CriOci.TestSupport;

/// <summary>
/// Debian's containerd on a temporary socket, root and state (its CRI plugin off: only the
/// content store, the task service and the runc shim are used), driven with `ctr`. Killed,
/// unmounted and deleted on dispose.
/// </summary>
public sealed class ContainerdServer : IAsyncDisposable
{
    private readonly Process _process;

    private ContainerdServer(Process process, string directory)
    {
        _process = process;
        Directory = directory;
    }

    public string Directory { get; }
    public string Socket => Path.Combine(Directory, "containerd.sock");

    public static async Task<ContainerdServer> StartAsync(string? directory = null)
    {
        TestDependencies.RequireFile("/usr/bin/containerd", "containerd");
        TestDependencies.RequireFile("/usr/bin/ctr", "containerd");
        directory ??= Path.Combine(Path.GetTempPath(), "crioci-containerd-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{directory}/root"
            state = "{directory}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{directory}/containerd.sock"
            """);
        var start = new ProcessStartInfo("/usr/bin/containerd") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(config);
        var process = Process.Start(start) ?? throw new InvalidOperationException("containerd did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ContainerdServer(process, directory);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await server.CtrUncheckedAsync("version")).Succeeded)
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new TimeoutException("containerd did not answer on " + server.Socket);
            }
            await Task.Delay(100);
        }
        return server;
    }

    public Task<CommandResult> CtrAsync(params string[] args) =>
        CommandRunner.RunAsync("/usr/bin/ctr", ["--address", Socket, .. args], TimeSpan.FromMinutes(5));

    public Task<CommandResult> CtrUncheckedAsync(params string[] args) =>
        CommandRunner.RunUncheckedAsync("/usr/bin/ctr", ["--address", Socket, .. args], TimeSpan.FromMinutes(5));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(mount => mount.StartsWith(Directory + "/", StringComparison.Ordinal))
            .OrderByDescending(mount => mount.Length);
        foreach (var mount in mounts)
        {
            await CommandRunner.RunUncheckedAsync("umount", ["-l", mount]);
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
