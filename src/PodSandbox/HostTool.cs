using System.Diagnostics;

namespace CriOci.PodSandbox;

/// <summary>How a host tool ended: its exit status and what it printed.</summary>
internal sealed record HostToolResult(int ExitCode, string Stdout, string Stderr);

/// <summary>A host tool that could not be run to its end: it did not start, or overran its time and was killed (<see cref="TimedOut"/>).</summary>
internal sealed class HostToolException(string message, bool timedOut = false, Exception? inner = null) : Exception(message, inner)
{
    public bool TimedOut { get; } = timedOut;
}

/// <summary>
/// Runs a tool of the node (apparmor_parser, iptables, CNI plugins) and collects its output: optional text on
/// stdin (end of file at once without), stdout and stderr read to their end, at most <c>timeout</c> of waiting. A tool that
/// overruns it or whose caller gives up is killed with its children, and always waited for, so
/// neither a process nor a pipe is left behind. The caller judges the exit status.
/// </summary>
internal static class HostTool
{
    public static Task<HostToolResult> RunAsync(string executable, IReadOnlyList<string> arguments, string? stdin, TimeSpan timeout,
        CancellationToken cancellationToken) =>
        RunAsync(executable, arguments, environment: null, stdin, timeout, cancellationToken);

    /// <param name="environment">Variables set over the daemon's own environment, which the tool otherwise inherits.</param>
    public static async Task<HostToolResult> RunAsync(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment,
        string? stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable)
        {
            // Always a pipe, closed after the text: a tool never reads the daemon's own stdin.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new HostToolException($"{executable} did not start");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new HostToolException($"cannot start {executable}: {exception.Message}", inner: exception);
        }
        using (process)
        {
            // Process.Dispose leaves the redirected streams to the caller; undisposed, each run
            // would keep its pipes open until a finalizer ran.
            using var standardOutput = process.StandardOutput;
            using var standardError = process.StandardError;
            var stdout = standardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = standardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await WriteInputAsync(process.StandardInput, stdin ?? "", deadline.Token).ConfigureAwait(false);
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw new HostToolException($"{executable} did not finish within {timeout.TotalSeconds:0.#} s and was killed", timedOut: true);
            }
            return new HostToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>The text, then end of file; a tool that exits without reading it all is judged by its exit status.</summary>
    private static async Task WriteInputAsync(StreamWriter input, string text, CancellationToken cancellationToken)
    {
        try
        {
            await input.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        try
        {
            // Closing flushes, which fails again on a pipe the tool closed; the pipe is closed all the same.
            input.Close();
        }
        catch (IOException)
        {
        }
    }
}
