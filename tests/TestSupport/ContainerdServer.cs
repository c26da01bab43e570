using System.Diagnostics;

namespace CriOci.TestSupport;

/// <summary>
/// Debian's containerd on a temporary socket, root and state, driven with `ctr`. Its CRI plugin
/// is off (only the content store, the task service and the runc shim are used) unless a CRI
/// plugin section is given, as the CRI benchmark does. Its output goes to containerd.log in its
/// directory. Killed, unmounted and deleted on dispose.
/// </summary>
public sealed class ContainerdServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ContainerdServer(Process process, StreamWriter log, string directory)
    {
        _process = process;
        _log = log;
        Directory = directory;
    }

    public string Directory { get; }
    public string Socket => Path.Combine(Directory, "containerd.sock");
    public int Pid => _process.Id;

    /// <param name="criPluginConfig">
    /// TOML of the <c>[plugins."io.containerd.grpc.v1.cri"]</c> table and its sub-tables; null
    /// disables the CRI plugin.
    /// </param>
    public static async Task<ContainerdServer> StartAsync(string? directory = null, string? criPluginConfig = null)
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
            {(criPluginConfig is null ? "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]" : "")}
            [grpc]
              address = "{directory}/containerd.sock"
            {criPluginConfig}
            """);
        var start = new ProcessStartInfo("/usr/bin/containerd") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(config);
        var process = Process.Start(start) ?? throw new InvalidOperationException("containerd did not start");
        var log = new StreamWriter(Path.Combine(directory, "containerd.log")) { AutoFlush = true };
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.WriteLine(line);
                }
            }
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ContainerdServer(process, log, directory);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await server.CtrUncheckedAsync("version")).Succeeded)
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new TimeoutException($"containerd did not answer on {server.Socket}; see {Path.Combine(directory, "containerd.log")}");
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
        lock (_log)
        {
            _log.Dispose();
        }
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
