using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CriOci.Core;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// One plugin invocation (SPEC.md "Execution protocol"): the network config on stdin, parameters in
/// CNI_* environment variables, the result or an error object on stdout. Plugins run in the host's
/// namespaces (they enter CNI_NETNS themselves), so a plain Process is right; it is always waited
/// for, and killed with its children when it overruns the timeout.
/// </summary>
internal static class CniPluginProcess
{
    /// <summary>Standard places for iptables, ip and friends, which plugins (portmap, bridge's ipMasq) run by name.</summary>
    private const string FallbackPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The plugin binary named <paramref name="type"/> in the first directory of CNI_PATH that has it.</summary>
    public static string? Find(string type, IReadOnlyList<string> directories) =>
        directories.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists);

    /// <summary>Runs the plugin; returns its stdout on success and throws <see cref="UnavailableException"/> with the plugin's own error otherwise.</summary>
    public static async Task<string> RunAsync(string executable, IReadOnlyDictionary<string, string> environment, string stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var outcome = await InvokeAsync(executable, environment, stdin, timeout, cancellationToken).ConfigureAwait(false);
        return outcome.Succeeded ? outcome.Stdout : throw outcome.ToException();
    }

    /// <summary>Runs the plugin and reports how it ended; only a timeout or cancellation throws.</summary>
    public static async Task<PluginOutcome> InvokeAsync(string executable, IReadOnlyDictionary<string, string> environment, string stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        if (string.IsNullOrEmpty(start.Environment.TryGetValue("PATH", out var path) ? path : null))
        {
            start.Environment["PATH"] = FallbackPath;
        }
        var command = environment.GetValueOrDefault("CNI_COMMAND", "?");
        using var call = new Telemetry.CniPluginCall(executable, environment);
        using var process = Process.Start(start) ?? throw new UnavailableException($"CNI plugin {executable} did not start");
        // Process.Dispose leaves the standard streams a caller has taken to that caller: without
        // these, every plugin run kept two pipes open until a finalizer ran (the soak test saw
        // four descriptors per pod cycle pile up).
        using var standardOutput = process.StandardOutput;
        using var standardError = process.StandardError;
        var stdout = standardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = standardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            try
            {
                await process.StandardInput.WriteAsync(stdin.AsMemory(), deadline.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The plugin exited without reading all of stdin; its exit status tells the rest.
            }
            finally
            {
                CloseInput(process.StandardInput);
            }
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new UnavailableException($"CNI plugin {Path.GetFileName(executable)} {command} did not finish within {timeout.TotalSeconds:0.#}s and was killed");
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode == 0)
        {
            return call.Finish(new PluginOutcome(Path.GetFileName(executable), command, 0, output, null, ""));
        }
        var (code, message) = DescribeError(output, errors, process.ExitCode);
        return call.Finish(new PluginOutcome(Path.GetFileName(executable), command, process.ExitCode, output, code, message));
    }

    /// <summary>EOF for the plugin; closing also flushes, which fails again on a pipe the plugin closed, but the pipe is closed all the same.</summary>
    private static void CloseInput(StreamWriter input)
    {
        try
        {
            input.Close();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The spec's error object ({"code", "msg", "details"}) when the plugin printed one, else its stderr.</summary>
    private static (int? Code, string Message) DescribeError(string stdout, string stderr, int exitCode)
    {
        try
        {
            if (JsonNode.Parse(stdout) is JsonObject error && error["msg"] is JsonValue msg)
            {
                var text = new StringBuilder(msg.ToString());
                if (error["details"] is JsonValue details && details.ToString() is { Length: > 0 } detailText)
                {
                    text.Append(": ").Append(detailText);
                }
                int? code = error["code"] is JsonValue codeValue && codeValue.TryGetValue<int>(out var number) ? number : null;
                if (code is { } known)
                {
                    text.Append(" (code ").Append(known).Append(')');
                }
                return (code, text.ToString());
            }
        }
        catch (JsonException)
        {
        }
        var fallback = (stderr.Trim().Length > 0 ? stderr : stdout).Trim();
        return (null, fallback.Length > 0 ? $"exit status {exitCode}: {fallback}" : $"exit status {exitCode}");
    }
}

/// <summary>How one plugin run ended: stdout, and for a failure the spec's error code and message.</summary>
internal sealed record PluginOutcome(string Plugin, string Command, int ExitCode, string Stdout, int? ErrorCode, string Message)
{
    /// <summary>SPEC.md "Error codes": 3 is "Unknown container".</summary>
    public const int UnknownContainer = 3;

    public bool Succeeded => ExitCode == 0;

    public UnavailableException ToException() => new($"CNI plugin {Plugin} {Command} failed: {Message}");

    /// <summary>
    /// For DEL, resources already gone are success ("Plugins should generally complete a DEL
    /// action without error even if some resources are missing", SPEC.md): error code 3, or the
    /// netns / container being gone, which is how a DEL after a reboot or a half-failed ADD looks.
    /// </summary>
    public bool IsAlreadyGone =>
        ErrorCode == UnknownContainer
        || Message.Contains("no such file or directory", StringComparison.OrdinalIgnoreCase)
        || Message.Contains("not found", StringComparison.OrdinalIgnoreCase);
}
