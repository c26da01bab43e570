using System.Diagnostics;
using System.Text;

namespace CriOci.TestSupport;

/// <summary>The outcome of one external command.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Thrown when a command exits non-zero or outlives its timeout; carries the full command line and its output.</summary>
public sealed class CommandFailedException(string message, CommandResult result) : Exception(message)
{
    public CommandResult Result { get; } = result;
}

/// <summary>
/// Runs external tools (umoci, skopeo, ip, ...) with an argument list, never through a shell,
/// so paths with spaces or quotes pass through unchanged.
/// </summary>
public static class CommandRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs the command and throws <see cref="CommandFailedException"/> unless it exits 0.</summary>
    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunUncheckedAsync(fileName, arguments, timeout, workingDirectory, environment, cancellationToken)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new CommandFailedException(
                $"Command exited with code {result.ExitCode}: {result.CommandLine}{Environment.NewLine}" +
                $"stderr:{Environment.NewLine}{result.StandardError}{Environment.NewLine}" +
                $"stdout:{Environment.NewLine}{Tail(result.StandardOutput)}",
                result);
        }

        return result;
    }

    /// <summary>
    /// Runs the command and returns its result whatever the exit code. Still throws
    /// <see cref="CommandFailedException"/> on timeout and <see cref="MissingTestDependencyException"/>
    /// when the program does not exist.
    /// </summary>
    public static async Task<CommandResult> RunUncheckedAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        var commandLine = FormatCommandLine(fileName, startInfo.ArgumentList);
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new MissingTestDependencyException(
                $"Cannot start '{commandLine}': {ex.Message}. " +
                $"Is '{fileName}' installed? Run scripts/install-test-deps.sh as root.",
                ex);
        }

        // Nothing we run reads stdin; closing it makes a tool that unexpectedly prompts fail fast instead of hanging.
        process.StandardInput.Close();
        var stdoutTask = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);

        var effectiveTimeout = timeout ?? DefaultTimeout;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(effectiveTimeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            var partial = new CommandResult(commandLine, -1, await stdoutTask.ConfigureAwait(false), await stderrTask.ConfigureAwait(false));
            cancellationToken.ThrowIfCancellationRequested();
            throw new CommandFailedException(
                $"Command timed out after {effectiveTimeout.TotalSeconds:0.#}s and was killed: {commandLine}{Environment.NewLine}" +
                $"stderr:{Environment.NewLine}{partial.StandardError}",
                partial);
        }

        return new CommandResult(
            commandLine,
            process.ExitCode,
            await stdoutTask.ConfigureAwait(false),
            await stderrTask.ConfigureAwait(false));
    }

    /// <summary>Formats a command line the way a POSIX shell would need it quoted, for messages only.</summary>
    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments)
    {
        var builder = new StringBuilder(Quote(fileName));
        foreach (var argument in arguments)
        {
            builder.Append(' ').Append(Quote(argument));
        }

        return builder.ToString();
    }

    private static string Quote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%".Contains(c)))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static string Tail(string text, int maxChars = 4000) =>
        text.Length <= maxChars ? text : "..." + text[^maxChars..];

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited between the timeout and the kill.
        }
    }
}
