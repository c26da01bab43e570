using System.Diagnostics;
using System.Text.Json;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Hooks;

/// <summary>
/// Runs the hooks of one lifecycle point (runtime-spec config.md "POSIX-platform Hooks"):
/// each hook gets the container's state JSON on stdin, only its own environment, and is
/// killed when it outlives its timeout. A failing hook is an error for the caller to act on
/// (destroy the container, or log and go on for poststart and poststop).
/// </summary>
public static class HookRunner
{
    public static void Run(IReadOnlyList<HookSpec>? hooks, string phase, OciState state)
    {
        foreach (var hook in hooks ?? [])
        {
            RunOne(hook, phase, state);
        }
    }

    private static void RunOne(HookSpec hook, string phase, OciState state)
    {
        var start = new ProcessStartInfo(hook.Path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = true,
        };
        // args[0] is the hook's argv[0]; .NET always passes the path there.
        foreach (var argument in (hook.Args ?? []).Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        foreach (var entry in hook.Env ?? [])
        {
            var equals = entry.IndexOf('=');
            if (equals > 0)
            {
                start.Environment[entry[..equals]] = entry[(equals + 1)..];
            }
        }
        using var process = Process.Start(start) ?? throw new HookFailedException($"{phase} hook {hook.Path} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.Write(JsonSerializer.Serialize(state, OciJsonContext.Default.OciState));
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The hook does not read its stdin; that is its right.
        }
        finally
        {
            CloseQuietly(process.StandardInput.BaseStream);
        }
        // Process.Dispose leaves a redirected pipe to the finalizer: close it once the hook is done.
        using var stderrPipe = process.StandardError;
        var timeout = hook.Timeout is { } seconds and > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new HookFailedException($"{phase} hook {hook.Path} timed out after {hook.Timeout}s");
        }
        if (process.ExitCode != 0)
        {
            throw new HookFailedException($"{phase} hook {hook.Path} exited with {process.ExitCode}: {stderr.Result.Trim()}");
        }
    }

    /// <summary>The hook may have exited with our data unread: closing its stdin must not fail the hook.</summary>
    private static void CloseQuietly(Stream stream)
    {
        try
        {
            stream.Dispose();
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A hook failed or timed out; the message names the phase and the hook.</summary>
public sealed class HookFailedException(string message) : Core.CriOciException(message);
