using System.Diagnostics;
using CriOci.Core;

namespace CriOci.PodSandbox.Containers;

/// <summary>The node's loaded AppArmor profiles, and loading one (a seam, so the mapping is tested without AppArmor).</summary>
public interface IAppArmorProfiles
{
    bool IsLoaded(string name);

    Task LoadAsync(string name, string profileText, CancellationToken cancellationToken);
}

/// <summary>
/// Reads securityfs's list of loaded profiles, one "NAME (MODE)" a line, and loads a profile
/// with apparmor_parser: -r replaces one of the same name, -K keeps the compiled policy out of
/// the parser's cache (the text is generated, so a cached copy would only go stale).
/// </summary>
public sealed class AppArmorProfiles(string profilesFile = AppArmorProfiles.ProfilesFile, string parser = "apparmor_parser") : IAppArmorProfiles
{
    public const string ProfilesFile = "/sys/kernel/security/apparmor/profiles";

    public bool IsLoaded(string name)
    {
        try
        {
            return File.ReadLines(profilesFile).Any(line => ProfileName(line) == name);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FailedPreconditionException($"cannot read the loaded AppArmor profiles from {profilesFile}: {exception.Message}");
        }
    }

    /// <summary>The name part of a profiles line: everything before the last " (" (names may contain spaces).</summary>
    public static string ProfileName(string line)
    {
        var mode = line.LastIndexOf(" (", StringComparison.Ordinal);
        return mode < 0 ? line.TrimEnd() : line[..mode];
    }

    public async Task LoadAsync(string name, string profileText, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(parser)
        {
            ArgumentList = { "-Kr" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new FailedPreconditionException($"cannot start {parser} to load AppArmor profile {name}");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new FailedPreconditionException($"cannot load AppArmor profile {name}: {parser}: {exception.Message}");
        }
        using (process)
        {
            string errors;
            try
            {
                var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
                var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.StandardInput.WriteAsync(profileText.AsMemory(), cancellationToken).ConfigureAwait(false);
                process.StandardInput.Close();
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await stdout.ConfigureAwait(false);
                errors = await stderr.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A parser left running would finish loading after the caller gave up; stop it.
                process.Kill();
                throw;
            }
            if (process.ExitCode != 0)
            {
                throw new FailedPreconditionException($"cannot load AppArmor profile {name}: {parser} -Kr exited with {process.ExitCode}: {errors.Trim()}");
            }
        }
    }
}
