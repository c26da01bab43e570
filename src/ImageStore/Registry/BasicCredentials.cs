using System.Net.Http.Headers;
using System.Text;
using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>A username and password from CRI's AuthConfig: explicit fields, or "auth" = base64("user:password").</summary>
internal sealed record BasicCredentials(string Username, string Password)
{
    public AuthenticationHeaderValue ToHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));

    public static BasicCredentials? From(RegistryCredentials? credentials)
    {
        if (credentials is null)
        {
            return null;
        }
        if (!string.IsNullOrEmpty(credentials.Username))
        {
            return new BasicCredentials(credentials.Username, credentials.Password ?? "");
        }
        if (string.IsNullOrEmpty(credentials.Auth))
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(credentials.Auth));
        }
        catch (FormatException)
        {
            throw new InvalidArgumentException("registry credentials: auth is not base64");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new InvalidArgumentException("registry credentials: auth does not decode to user:password");
        }
        return new BasicCredentials(decoded[..colon], decoded[(colon + 1)..]);
    }

    // Never print the password.
    public override string ToString() => $"BasicCredentials {{ Username = {Username} }}";
}
