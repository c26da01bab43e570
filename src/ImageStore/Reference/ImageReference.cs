using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using CriOci.Core;

namespace CriOci.ImageStore.Reference;

/// <summary>
/// A normalised image reference, parsed the way Docker's reference package does
/// (github.com/distribution/reference: regexp.go for the grammar, normalize.go
/// ParseNormalizedNamed/splitDockerDomain for the defaults), so "busybox" here means what it
/// means to docker, containerd and kubelet: "docker.io/library/busybox:latest".
/// </summary>
internal sealed partial record ImageReference(string Domain, string Path, string? Tag, string? Digest)
{
    public const string DockerHubDomain = "docker.io";
    private const string LegacyDockerHubDomain = "index.docker.io";
    private const string DockerHubRegistryHost = "registry-1.docker.io";
    private const string OfficialRepositoryPrefix = "library/";
    private const string DefaultTag = "latest";
    private const int MaxNameLength = 255;

    /// <summary>"domain/path", e.g. "docker.io/library/busybox".</summary>
    public string Name => $"{Domain}/{Path}";

    /// <summary>Where the registry API lives: Docker Hub's API host differs from its name.</summary>
    public string RegistryHost => Domain == DockerHubDomain ? DockerHubRegistryHost : Domain;

    /// <summary>"name:tag", or null for a digest-only reference.</summary>
    public string? TagReference => Tag is null ? null : $"{Name}:{Tag}";

    /// <summary>What to ask the registry for: the digest wins over the tag, as in Docker.</summary>
    public string ManifestReference => Digest ?? Tag ?? DefaultTag;

    public string WithDigest(string digest) => $"{Name}@{digest}";

    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static ImageReference Parse(string reference) =>
        TryParse(reference, out var parsed, out var error)
            ? parsed
            : throw new InvalidArgumentException($"invalid image reference \"{reference}\": {error}");

    public static bool TryParse(
        string reference,
        [NotNullWhen(true)] out ImageReference? parsed,
        [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (string.IsNullOrEmpty(reference))
        {
            error = "reference is empty";
            return false;
        }
        if (IdentifierPattern().IsMatch(reference))
        {
            error = "a 64-character hexadecimal string is an image ID, not a repository name";
            return false;
        }

        var (domain, remainder) = SplitDockerDomain(reference);
        var tagSeparator = remainder.IndexOf(':', StringComparison.Ordinal);
        var remoteName = tagSeparator < 0 ? remainder : remainder[..tagSeparator];
        if (!string.Equals(remoteName.ToLowerInvariant(), remoteName, StringComparison.Ordinal))
        {
            error = $"repository name \"{remoteName}\" must be lowercase";
            return false;
        }

        var match = ReferencePattern().Match($"{domain}/{remainder}");
        if (!match.Success)
        {
            error = "not a valid [domain/]name[:tag][@digest] reference";
            return false;
        }
        if (match.Groups["domain"].Value != domain)
        {
            // "a_b.c/d": the first component looks like a domain (it has a dot) but is not one.
            error = $"\"{domain}\" is not a valid registry host";
            return false;
        }
        var name = match.Groups["name"].Value;
        if (name.Length > MaxNameLength)
        {
            error = $"repository name is longer than {MaxNameLength} characters";
            return false;
        }
        string? tag = match.Groups["tag"].Success ? match.Groups["tag"].Value : null;
        string? digest = match.Groups["digest"].Success ? match.Groups["digest"].Value : null;
        if (digest is not null && !Reference.Digest.TryParse(digest, out _))
        {
            error = $"digest \"{digest}\" is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>";
            return false;
        }
        if (tag is null && digest is null)
        {
            tag = DefaultTag;
        }

        var path = name[(domain.Length + 1)..];
        parsed = new ImageReference(domain, path, tag, digest);
        error = null;
        return true;
    }

    /// <summary>
    /// The first component is a domain only when it looks like one (has '.' or ':', is
    /// "localhost", or has an uppercase letter); otherwise the name is on Docker Hub, where
    /// single-component names live under "library/".
    /// </summary>
    private static (string Domain, string Remainder) SplitDockerDomain(string name)
    {
        string domain;
        string remainder;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || IsDockerHubPath(name[..slash]))
        {
            domain = DockerHubDomain;
            remainder = name;
        }
        else
        {
            domain = name[..slash];
            remainder = name[(slash + 1)..];
        }
        if (domain == LegacyDockerHubDomain)
        {
            domain = DockerHubDomain;
        }
        if (domain == DockerHubDomain && !remainder.Contains('/', StringComparison.Ordinal))
        {
            remainder = OfficialRepositoryPrefix + remainder;
        }
        return (domain, remainder);
    }

    private static bool IsDockerHubPath(string firstComponent) =>
        firstComponent.IndexOfAny(['.', ':']) < 0
        && firstComponent != "localhost"
        && string.Equals(firstComponent.ToLowerInvariant(), firstComponent, StringComparison.Ordinal);

    // The grammar of distribution/reference regexp.go, with Go's ASCII \w spelled out.
    private const string Alphanumeric = "[a-z0-9]+";
    private const string Separator = "(?:[._]|__|[-]+)";
    private const string PathComponent = Alphanumeric + "(?:" + Separator + Alphanumeric + ")*";
    private const string DomainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string Ipv6Address = @"\[(?:[a-fA-F0-9:]+)\]";
    private const string DomainName = DomainNameComponent + @"(?:\." + DomainNameComponent + ")*";
    private const string Host = "(?:" + DomainName + "|" + Ipv6Address + ")";
    private const string DomainAndPort = Host + "(?::[0-9]+)?";
    private const string NamePattern = "(?:(?<domain>" + DomainAndPort + ")/)?" + PathComponent + "(?:/" + PathComponent + ")*";
    private const string TagPattern = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string DigestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

    [GeneratedRegex("^(?<name>" + NamePattern + ")(?::(?<tag>" + TagPattern + "))?(?:@(?<digest>" + DigestPattern + "))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferencePattern();

    [GeneratedRegex("^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}
