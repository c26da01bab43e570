using System.Net.Http.Headers;
using System.Text;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// One WWW-Authenticate challenge (RFC 7235 section 4.1): a scheme and its auth-params, e.g.
/// Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull".
/// </summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.GetValueOrDefault(name);

    public static IReadOnlyList<AuthChallenge> FromHeaders(HttpHeaderValueCollection<AuthenticationHeaderValue> headers) =>
        [.. headers.Select(header => new AuthChallenge(header.Scheme, ParseParameters(header.Parameter)))];

    /// <summary>Parses comma-separated name=value pairs whose values may be quoted strings with backslash escapes.</summary>
    public static IReadOnlyDictionary<string, string> ParseParameters(string? parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(parameter))
        {
            return result;
        }
        var position = 0;
        while (position < parameter.Length)
        {
            SkipSeparators(parameter, ref position);
            var equals = parameter.IndexOf('=', position);
            if (equals < 0)
            {
                break;
            }
            var name = parameter[position..equals].Trim();
            position = equals + 1;
            var value = ReadValue(parameter, ref position);
            if (name.Length > 0)
            {
                result[name] = value;
            }
        }
        return result;
    }

    private static void SkipSeparators(string text, ref int position)
    {
        while (position < text.Length && (text[position] == ',' || char.IsWhiteSpace(text[position])))
        {
            position++;
        }
    }

    private static string ReadValue(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
        if (position < text.Length && text[position] == '"')
        {
            position++;
            var value = new StringBuilder();
            while (position < text.Length && text[position] != '"')
            {
                if (text[position] == '\\' && position + 1 < text.Length)
                {
                    position++;
                }
                value.Append(text[position]);
                position++;
            }
            position++;
            return value.ToString();
        }
        var end = text.IndexOf(',', position);
        if (end < 0)
        {
            end = text.Length;
        }
        var token = text[position..end].Trim();
        position = end;
        return token;
    }
}
