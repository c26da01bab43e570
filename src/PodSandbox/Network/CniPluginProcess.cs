using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CriOci.Core;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// One plugin invocation (SPEC.md "Execution protocol"): the network config on stdin, parameters in
/// CNI_* environment variables, the result or an error object on stdout. Plugins run in the host's
/// namespaces (they enter CNI_NETNS themselves), so a plain process is right (<see cref="HostTool"/>:
/// always waited for, and killed with its children when it overruns the timeout).
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

    /// <summary>Runs the plugin and reports how it ended; only a failure to start, a timeout or cancellation throws.</summary>
    public static async Task<PluginOutcome> InvokeAsync(string executable, IReadOnlyDictionary<string, string> environment, string stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        // The PATH the plugin would see: its own if given, else the daemon's.
        if (string.IsNullOrEmpty(variables.TryGetValue("PATH", out var path) ? path : Environment.GetEnvironmentVariable("PATH")))
        {
            variables["PATH"] = FallbackPath;
        }
        var command = environment.GetValueOrDefault("CNI_COMMAND", "?");
        using var call = new Telemetry.CniPluginCall(executable, environment);
        HostToolResult result;
        try
        {
            result = await HostTool.RunAsync(executable, [], variables, stdin, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (HostToolException exception) when (exception.TimedOut)
        {
            throw new UnavailableException($"CNI plugin {Path.GetFileName(executable)} {command} did not finish within {timeout.TotalSeconds:0.#}s and was killed");
        }
        catch (HostToolException exception)
        {
            throw new UnavailableException($"CNI plugin {Path.GetFileName(executable)} {command}: {exception.Message}");
        }
        if (result.ExitCode == 0)
        {
            return call.Finish(new PluginOutcome(Path.GetFileName(executable), command, 0, result.Stdout, null, ""));
        }
        var (code, message) = DescribeError(result.Stdout, result.Stderr, result.ExitCode);
        return call.Finish(new PluginOutcome(Path.GetFileName(executable), command, result.ExitCode, result.Stdout, code, message));
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
