namespace CriOci.ImageStore.Registry;

/// <summary>
/// Picks HTTPS or plain HTTP for a registry host. Loopback registries are plain HTTP on any
/// port, as Docker and containerd allow; others only when configured insecure.
/// </summary>
internal sealed class RegistryEndpoint(IReadOnlyList<string> insecureRegistries)
{
    public Uri BaseUri(string registryHost)
    {
        var scheme = IsPlainHttp(registryHost) ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;
        return new Uri($"{scheme}://{registryHost}/v2/");
    }

    public bool IsPlainHttp(string registryHost)
    {
        var hostName = HostWithoutPort(registryHost);
        if (hostName is "localhost" or "127.0.0.1" or "[::1]")
        {
            return true;
        }
        foreach (var insecure in insecureRegistries)
        {
            if (string.Equals(insecure, registryHost, StringComparison.OrdinalIgnoreCase)
                || string.Equals(insecure, hostName, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string HostWithoutPort(string registryHost)
    {
        if (registryHost.StartsWith('['))
        {
            var close = registryHost.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? registryHost : registryHost[..(close + 1)];
        }
        var colon = registryHost.LastIndexOf(':');
        return colon < 0 ? registryHost : registryHost[..colon];
    }
}
