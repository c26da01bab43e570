using System.Globalization;
using System.Text.Json;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Support;

/// <summary>
/// One container of a busybox bundle driven through the published crioci-runtime's command
/// line (run, or create/start/exec/state). Disposing deletes it by force and removes the bundle.
/// </summary>
internal sealed class CliContainer : IAsyncDisposable
{
    public CliContainer(string idPrefix)
    {
        Id = idPrefix + "-" + Guid.NewGuid().ToString("N")[..12];
        StdoutFile = Path.Combine(Bundle.Directory, "container.out");
        StderrFile = Path.Combine(Bundle.Directory, "container.err");
    }

    public BusyboxBundle Bundle { get; } = new();

    public string Runtime { get; } = RuntimeBinary.Require();

    public string Id { get; }

    /// <summary>Where the container's (and create's or run's) stdout and stderr go.</summary>
    public string StdoutFile { get; }

    public string StderrFile { get; }

    public Task<CliResult> VerbAsync(params string[] args) => CliRunner.RunAsync(Runtime, ["--root", Bundle.StateRoot, .. args]);

    /// <summary>`run`: the exit code, and everything the container wrote to stdout and stderr.</summary>
    public async Task<(CliResult Result, string Output)> RunAsync(RuntimeSpec spec)
    {
        Bundle.WriteSpec(spec);
        var result = await CliRunner.RunWithFilesAsync(Runtime, StdoutFile, StderrFile, "--root", Bundle.StateRoot, "run", "--bundle", Bundle.Bundle, Id);
        return (result, File.ReadAllText(StdoutFile) + File.ReadAllText(StderrFile));
    }

    /// <summary>`create`, which must succeed; returns the init's host pid as --pid-file wrote it.</summary>
    public async Task<int> CreateAsync(RuntimeSpec spec)
    {
        Bundle.WriteSpec(spec);
        var pidFile = Path.Combine(Bundle.Directory, "init.pid");
        var result = await CliRunner.RunWithFilesAsync(Runtime, StdoutFile, StderrFile, "--root", Bundle.StateRoot, "create", "--bundle", Bundle.Bundle, "--pid-file", pidFile, Id);
        Assert.True(result.ExitCode == 0, result.ToString());
        return int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>`exec` in the foreground: its result, with the process's output.</summary>
    public Task<CliResult> ExecAsync(params string[] args)
    {
        var stdout = Path.Combine(Bundle.Directory, "exec.out");
        var stderr = Path.Combine(Bundle.Directory, "exec.err");
        return CliRunner.RunWithFilesAsync(Runtime, stdout, stderr, ["--root", Bundle.StateRoot, "exec", .. args]);
    }

    public async Task<string?> StatusAsync()
    {
        var result = await VerbAsync("state", Id);
        return result.ExitCode == 0 ? JsonDocument.Parse(result.Stdout).RootElement.GetProperty("status").GetString() : null;
    }

    public async Task WaitForStatusAsync(string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string? current;
        while ((current = await StatusAsync()) != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"container {Id} is {current ?? "gone"}, never {status}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await VerbAsync("delete", "--force", Id);
        }
        finally
        {
            Bundle.Dispose();
        }
    }
}
