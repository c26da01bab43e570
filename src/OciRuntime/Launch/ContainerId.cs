using System.Text.RegularExpressions;

namespace CriOci.OciRuntime.Launch;

/// <summary>Container IDs become directory names, so they are held to runc's character set.</summary>
public static partial class ContainerId
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}\z")]
    private static partial Regex ValidId();

    public static void Validate(string id)
    {
        if (!ValidId().IsMatch(id))
        {
            throw new Core.InvalidArgumentException($"invalid container ID {id}: use letters, digits and _.+- only");
        }
    }
}
