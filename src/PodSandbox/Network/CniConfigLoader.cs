namespace CriOci.PodSandbox.Network;

/// <summary>
/// Picks the network as libcni and CRI-O's ocicni do: the lexically first file among *.conflist,
/// *.conf and *.json in the config directory that parses; invalid files are skipped (and reported
/// if none is valid). An empty or missing directory means the built-in default network. The
/// directory is re-read whenever its listing or any candidate's size or mtime changes, checked on
/// every use, so an installer dropping a config in takes effect at the next pod.
/// </summary>
internal sealed class CniConfigLoader(string configDirectory)
{
    private static readonly string[] Extensions = [".conflist", ".conf", ".json"];

    private readonly Lock _lock = new();
    private string? _fingerprint;
    private LoadedNetwork? _loaded;
    private IReadOnlyList<string> _defaultSubnets = [DefaultNetwork.DefaultSubnet];

    /// <summary>The network to use now, or the reason there is none.</summary>
    public LoadedNetwork Load()
    {
        var files = CandidateFiles();
        var fingerprint = string.Join('\n', files.Select(f => $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"));
        lock (_lock)
        {
            if (_loaded is null || fingerprint != _fingerprint)
            {
                _loaded = Read(files);
                _fingerprint = fingerprint;
            }
            return _loaded;
        }
    }

    public void SetDefaultSubnets(IReadOnlyList<string> subnets)
    {
        lock (_lock)
        {
            _defaultSubnets = subnets;
            _loaded = null;
        }
    }

    private List<FileInfo> CandidateFiles()
    {
        var directory = new DirectoryInfo(configDirectory);
        if (!directory.Exists)
        {
            return [];
        }
        return directory.EnumerateFiles()
            .Where(f => Extensions.Contains(f.Extension, StringComparer.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    private LoadedNetwork Read(List<FileInfo> files)
    {
        if (files.Count == 0)
        {
            return new LoadedNetwork(DefaultNetwork.Build(_defaultSubnets), null,
                WithoutPortMappings: DefaultNetwork.Build(_defaultSubnets, portMappings: false), MasqueradeSubnets: _defaultSubnets);
        }
        var problems = new List<string>();
        foreach (var file in files)
        {
            try
            {
                var json = File.ReadAllText(file.FullName);
                return new LoadedNetwork(CniNetworkConfig.Parse(json, file.FullName, isList: file.Extension == ".conflist"), null);
            }
            catch (Exception exception) when (exception is CniConfigException or IOException or UnauthorizedAccessException)
            {
                problems.Add(exception is CniConfigException ? exception.Message : $"{file.FullName}: {exception.Message}");
            }
        }
        return new LoadedNetwork(null, $"no valid CNI network config in {configDirectory}: {string.Join("; ", problems)}");
    }
}

/// <summary>Either a network or the reason there is none.</summary>
/// <param name="WithoutPortMappings">
/// The built-in network without its portmap plugin, for pods with no hostPort: portmap's ADD and
/// DEL each run iptables (about 10 ms on a quiet node) only to find nothing to map. Only for the
/// network we own; an admin's conflist runs as written, as libcni does for containerd and CRI-O.
/// </param>
/// <param name="MasqueradeSubnets">
/// The built-in network's subnets, whose node-wide masquerade rule (<see cref="INodeMasquerade"/>)
/// must be in place before a pod joins; null for an admin's network, which masquerades as it says.
/// </param>
internal sealed record LoadedNetwork(CniNetworkConfig? Network, string? Error, CniNetworkConfig? WithoutPortMappings = null,
    IReadOnlyList<string>? MasqueradeSubnets = null);
