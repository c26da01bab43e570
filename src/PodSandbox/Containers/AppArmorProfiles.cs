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

    /// <summary>Longer than any real profile takes to compile; a parser stuck past it is killed.</summary>
    public static readonly TimeSpan ParserTimeout = TimeSpan.FromMinutes(1);

    public async Task LoadAsync(string name, string profileText, CancellationToken cancellationToken)
    {
        HostToolResult result;
        try
        {
            result = await HostTool.RunAsync(parser, ["-Kr"], profileText, ParserTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (HostToolException exception)
        {
            throw new FailedPreconditionException($"cannot load AppArmor profile {name}: {exception.Message}");
        }
        if (result.ExitCode != 0)
        {
            throw new FailedPreconditionException($"cannot load AppArmor profile {name}: {parser} -Kr exited with {result.ExitCode}: {result.Stderr.Trim()}");
        }
    }
}
