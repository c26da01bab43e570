namespace CriOci.ImageStore;

/// <summary>
/// Registry credentials as CRI's AuthConfig carries them. Never logged.
/// </summary>
/// <param name="Auth">base64 of "user:password", used when Username is empty.</param>
/// <param name="IdentityToken">An OAuth2 refresh token for the registry's token endpoint.</param>
/// <param name="RegistryToken">A bearer token sent to the registry as it is.</param>
public sealed record RegistryCredentials(
    string? Username,
    string? Password,
    string? Auth,
    string? IdentityToken,
    string? RegistryToken)
{
    // Records print every property; keep secrets out of logs and exception messages.
    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}
