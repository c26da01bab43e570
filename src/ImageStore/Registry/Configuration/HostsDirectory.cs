using CriOci.Core;

namespace CriOci.ImageStore.Registry.Configuration;

/// <summary>
/// containerd's registry host configuration (docs/hosts.md): &lt;dir&gt;/&lt;host[:port]&gt;/hosts.toml,
/// or &lt;dir&gt;/_default/hosts.toml for registries without their own directory. Top-level keys
/// (server, capabilities, ca, client, skip_verify, header, override_path) describe the upstream;
/// each [host."scheme://mirror[:port][/path]"] table is a mirror, tried in file order before it.
/// Plain HTTP is chosen by an http:// URL. Relative certificate paths are relative to the host's
/// directory. A directory without hosts.toml is read Docker's certs.d way: *.crt are CAs,
/// *.cert with the *.key of the same name are client certificates. Read at every pull, so an
/// edit takes effect without a restart, as in containerd.
/// </summary>
internal sealed class HostsDirectory(string? configDirectory, RegistryEndpoint defaults)
{
    public const string FileName = "hosts.toml";
    public const string DefaultDirectory = "_default";

    private const HostCapabilities DefaultCapabilities = HostCapabilities.Pull | HostCapabilities.Resolve;

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoHeaders =
        new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The hosts to try for images of <paramref name="domain"/> ("docker.io", "quay.io",
    /// "127.0.0.1:5000"), mirrors first and the upstream (<paramref name="upstreamHost"/>
    /// unless the file names another server) last.
    /// </summary>
    public IReadOnlyList<RegistryHost> Resolve(string domain, string upstreamHost)
    {
        var upstream = new RegistryHost(
            upstreamHost, defaults.BaseUri(upstreamHost), DefaultCapabilities | HostCapabilities.Push, RegistryTlsSettings.Default, NoHeaders, null);
        if (string.IsNullOrEmpty(configDirectory) || FindHostDirectory(domain) is not { } hostDirectory)
        {
            return [upstream];
        }
        var file = Path.Combine(hostDirectory, FileName);
        if (!File.Exists(file))
        {
            return [upstream with { Tls = ReadCertsDirectory(hostDirectory) }];
        }
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnavailableException($"registry configuration {file} is unreadable: {e.Message}", e);
        }
        var document = TomlSubset.Parse(text, file);

        var hosts = new List<RegistryHost>();
        if (document.TryGetValue("host", out var hostTables))
        {
            var tables = hostTables as OrderedDictionary<string, object>
                ?? throw Invalid(file, "host", "must be a table of [host.\"URL\"] tables");
            foreach (var (url, table) in tables)
            {
                var settings = table as OrderedDictionary<string, object>
                    ?? throw Invalid(file, $"host.\"{url}\"", "must be a table");
                hosts.Add(ReadHost(url, settings, hostDirectory, file, $"host.\"{url}\"", DefaultCapabilities, domain));
            }
        }
        if (document.TryGetValue("server", out var server))
        {
            var serverUrl = server as string ?? throw Invalid(file, "server", "server must be a string URL");
            hosts.Add(ReadHost(serverUrl, document, hostDirectory, file, "server", DefaultCapabilities | HostCapabilities.Push, null));
        }
        else
        {
            var settings = ReadHost(upstream.BaseUri.GetLeftPart(UriPartial.Authority), document, hostDirectory, file, "top level", upstream.Capabilities, null);
            hosts.Add(settings with { BaseUri = upstream.BaseUri });
        }
        return hosts;
    }

    private string? FindHostDirectory(string domain)
    {
        foreach (var name in new[] { domain, DefaultDirectory })
        {
            // A domain is a host name with an optional port: nothing in it can leave the directory.
            if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            {
                continue;
            }
            var path = Path.Combine(configDirectory!, name);
            if (Directory.Exists(path))
            {
                return path;
            }
        }
        return null;
    }

    private static RegistryHost ReadHost(
        string url, OrderedDictionary<string, object> settings, string hostDirectory, string file, string where,
        HostCapabilities defaultCapabilities, string? mirrorOf)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw Invalid(file, where, $"\"{url}\" is not an http:// or https:// URL");
        }
        // containerd: the path defaults to /v2 and gets /v2 appended unless override_path is set.
        var path = uri.AbsolutePath.TrimEnd('/');
        if (!Boolean(settings, "override_path", file, where) && !path.EndsWith("/v2", StringComparison.Ordinal))
        {
            path += "/v2";
        }
        var baseUri = new Uri($"{uri.Scheme}://{uri.Authority}{path}/");
        var skipVerify = Boolean(settings, "skip_verify", file, where);
        var tls = new RegistryTlsSettings(
            skipVerify,
            [.. Strings(settings, "ca", file, where).Select(p => Path.GetFullPath(p, hostDirectory))],
            ReadClientCertificates(settings, hostDirectory, file, where));
        return new RegistryHost(
            uri.Authority,
            baseUri,
            settings.ContainsKey("capabilities") ? ReadCapabilities(settings, file, where) : defaultCapabilities,
            tls,
            ReadHeaders(settings, file, where),
            mirrorOf);
    }

    private static HostCapabilities ReadCapabilities(OrderedDictionary<string, object> settings, string file, string where)
    {
        var capabilities = HostCapabilities.None;
        foreach (var name in Strings(settings, "capabilities", file, where))
        {
            capabilities |= name switch
            {
                "pull" => HostCapabilities.Pull,
                "resolve" => HostCapabilities.Resolve,
                "push" => HostCapabilities.Push,
                _ => throw Invalid(file, where, $"unknown capability \"{name}\" (pull, resolve, push)"),
            };
        }
        return capabilities;
    }

    private static List<ClientCertificateFiles> ReadClientCertificates(
        OrderedDictionary<string, object> settings, string hostDirectory, string file, string where)
    {
        if (!settings.TryGetValue("client", out var value))
        {
            return [];
        }
        // client = "cert.pem" | ["a.pem", "b.pem"] | [["cert", "key"], ["both.pem", ""]]
        var entries = value is List<object> list ? list : [value];
        var result = new List<ClientCertificateFiles>();
        foreach (var entry in entries)
        {
            switch (entry)
            {
                case string single:
                    result.Add(new ClientCertificateFiles(Path.GetFullPath(single, hostDirectory), null));
                    break;
                case List<object> { Count: >= 1 and <= 2 } pair when pair.All(p => p is string):
                    var key = pair.Count == 2 && ((string)pair[1]).Length > 0 ? Path.GetFullPath((string)pair[1], hostDirectory) : null;
                    result.Add(new ClientCertificateFiles(Path.GetFullPath((string)pair[0], hostDirectory), key));
                    break;
                default:
                    throw Invalid(file, where, "client must be a path, a list of paths or a list of [certificate, key] pairs");
            }
        }
        return result;
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> ReadHeaders(
        OrderedDictionary<string, object> settings, string file, string where)
    {
        if (!settings.TryGetValue("header", out var value))
        {
            return NoHeaders;
        }
        var table = value as OrderedDictionary<string, object> ?? throw Invalid(file, where, "header must be a table");
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in table.Keys)
        {
            headers[name] = Strings(table, name, file, $"{where} header");
        }
        return headers;
    }

    private static bool Boolean(OrderedDictionary<string, object> settings, string key, string file, string where) =>
        !settings.TryGetValue(key, out var value) ? false
        : value as bool? ?? throw Invalid(file, where, $"{key} must be true or false");

    private static List<string> Strings(OrderedDictionary<string, object> settings, string key, string file, string where) =>
        !settings.TryGetValue(key, out var value) ? []
        : value is string single ? [single]
        : value is List<object> list && list.All(v => v is string) ? [.. list.Cast<string>()]
        : throw Invalid(file, where, $"{key} must be a string or a list of strings");

    /// <summary>Docker's /etc/docker/certs.d/&lt;host&gt;/ layout, which containerd reads too when there is no hosts.toml.</summary>
    private static RegistryTlsSettings ReadCertsDirectory(string hostDirectory)
    {
        var files = Directory.EnumerateFiles(hostDirectory).Order(StringComparer.Ordinal).ToList();
        var cas = files.Where(f => f.EndsWith(".crt", StringComparison.Ordinal)).ToList();
        var clients = files
            .Where(f => f.EndsWith(".cert", StringComparison.Ordinal))
            .Select(cert => new ClientCertificateFiles(cert, Path.ChangeExtension(cert, ".key")))
            .Where(pair => File.Exists(pair.KeyFile))
            .ToList();
        return cas.Count == 0 && clients.Count == 0 ? RegistryTlsSettings.Default : new RegistryTlsSettings(false, cas, clients);
    }

    private static InvalidArgumentException Invalid(string file, string where, string message) =>
        new($"registry configuration {file} ({where}): {message}");
}
