using System.Diagnostics;

namespace CriOci.OciRuntime.Tests.Support;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs crioci-runtime as runc's callers do.</summary>
internal static class CliRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs a verb whose output is captured through pipes (nothing outlives it holding them).</summary>
    public static async Task<CliResult> RunAsync(string runtime, params string[] args)
    {
        var start = new ProcessStartInfo(runtime)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Runs a verb whose stdout and stderr the container inherits (create): they go to files,
    /// as a pipe would stay open for the container's whole life. Returns the verb's result
    /// with its own output read back from those files.
    /// </summary>
    public static async Task<CliResult> RunWithFilesAsync(string runtime, string stdoutFile, string stderrFile, params string[] args)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in (string[])["-c", "out=$1; err=$2; shift 2; exec \"$@\" </dev/null >\"$out\" 2>\"$err\"", "sh", stdoutFile, stderrFile, runtime, .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await File.ReadAllTextAsync(stdoutFile), await File.ReadAllTextAsync(stderrFile));
    }
}
