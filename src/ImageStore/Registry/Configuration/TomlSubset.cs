using System.Globalization;
using System.Text;
using CriOci.Core;

namespace CriOci.ImageStore.Registry.Configuration;

/// <summary>
/// Reads the part of TOML 1.0 (toml.io/en/v1.0.0) that containerd's hosts.toml uses: tables with
/// bare or quoted (dotted) keys, basic and literal strings, booleans, integers, arrays (nested,
/// multi-line, trailing comma) and inline tables. Tables keep their keys in file order, because
/// the order of [host."..."] tables is the order mirrors are tried. Anything else (multi-line
/// strings, floats, dates, arrays of tables) is refused with the line it is on, never guessed.
/// </summary>
internal sealed class TomlSubset
{
    private readonly string text;
    private readonly string source;
    private int position;
    private int line = 1;

    private TomlSubset(string text, string source)
    {
        this.text = text;
        this.source = source;
    }

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> (a path) names it in errors.</summary>
    public static OrderedDictionary<string, object> Parse(string text, string source) =>
        new TomlSubset(text, source).ParseDocument();

    private OrderedDictionary<string, object> ParseDocument()
    {
        var root = new OrderedDictionary<string, object>(StringComparer.Ordinal);
        var current = root;
        var definedTables = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            SkipWhitespaceCommentsAndNewlines();
            if (position >= text.Length)
            {
                return root;
            }
            if (text[position] == '[')
            {
                if (Peek(1) == '[')
                {
                    throw Error("arrays of tables ([[...]]) are not supported");
                }
                position++;
                SkipSpaces();
                var path = ParseKeyPath();
                SkipSpaces();
                Expect(']');
                var joined = string.Join('\u0000', path);
                if (!definedTables.Add(joined))
                {
                    throw Error($"table [{string.Join('.', path)}] is defined twice");
                }
                current = root;
                foreach (var key in path)
                {
                    current = ChildTable(current, key, path);
                }
            }
            else
            {
                ParseKeyValue(current);
            }
            EndOfLine();
        }
    }

    private void ParseKeyValue(OrderedDictionary<string, object> table)
    {
        var path = ParseKeyPath();
        SkipSpaces();
        Expect('=');
        SkipSpaces();
        var value = ParseValue();
        var target = table;
        for (var i = 0; i < path.Count - 1; i++)
        {
            target = ChildTable(target, path[i], path);
        }
        if (!target.TryAdd(path[^1], value))
        {
            throw Error($"key \"{string.Join('.', path)}\" is defined twice");
        }
    }

    private OrderedDictionary<string, object> ChildTable(OrderedDictionary<string, object> parent, string key, List<string> path)
    {
        if (!parent.TryGetValue(key, out var existing))
        {
            var created = new OrderedDictionary<string, object>(StringComparer.Ordinal);
            parent.Add(key, created);
            return created;
        }
        return existing as OrderedDictionary<string, object>
            ?? throw Error($"\"{string.Join('.', path)}\": \"{key}\" is already a value, not a table");
    }

    private List<string> ParseKeyPath()
    {
        var path = new List<string> { ParseKey() };
        SkipSpaces();
        while (Peek(0) == '.')
        {
            position++;
            SkipSpaces();
            path.Add(ParseKey());
            SkipSpaces();
        }
        return path;
    }

    private string ParseKey()
    {
        var c = Peek(0);
        if (c == '"')
        {
            return ParseBasicString();
        }
        if (c == '\'')
        {
            return ParseLiteralString();
        }
        var start = position;
        while (position < text.Length && (char.IsAsciiLetterOrDigit(text[position]) || text[position] is '_' or '-'))
        {
            position++;
        }
        return position > start ? text[start..position] : throw Error("expected a key");
    }

    private object ParseValue()
    {
        var c = Peek(0);
        switch (c)
        {
            case '"':
                return Peek(1) == '"' && Peek(2) == '"' ? throw Error("multi-line strings are not supported") : ParseBasicString();
            case '\'':
                return Peek(1) == '\'' && Peek(2) == '\'' ? throw Error("multi-line strings are not supported") : ParseLiteralString();
            case '[':
                return ParseArray();
            case '{':
                return ParseInlineTable();
        }
        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]) && text[position] is not (',' or ']' or '}' or '#'))
        {
            position++;
        }
        var token = text[start..position];
        if (token is "true" or "false")
        {
            return token == "true";
        }
        if (token.Length > 0 && long.TryParse(token.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }
        throw Error(token.Length == 0 ? "expected a value" : $"unsupported value \"{token}\" (strings must be quoted)");
    }

    private List<object> ParseArray()
    {
        Expect('[');
        var items = new List<object>();
        while (true)
        {
            SkipWhitespaceCommentsAndNewlines();
            if (Peek(0) == ']')
            {
                position++;
                return items;
            }
            items.Add(ParseValue());
            SkipWhitespaceCommentsAndNewlines();
            if (Peek(0) == ',')
            {
                position++;
            }
            else if (Peek(0) != ']')
            {
                throw Error("expected ',' or ']' in array");
            }
        }
    }

    private OrderedDictionary<string, object> ParseInlineTable()
    {
        Expect('{');
        var table = new OrderedDictionary<string, object>(StringComparer.Ordinal);
        SkipSpaces();
        if (Peek(0) == '}')
        {
            position++;
            return table;
        }
        while (true)
        {
            SkipSpaces();
            ParseKeyValue(table);
            SkipSpaces();
            if (Peek(0) == '}')
            {
                position++;
                return table;
            }
            Expect(',');
        }
    }

    private string ParseBasicString()
    {
        Expect('"');
        var value = new StringBuilder();
        while (true)
        {
            if (position >= text.Length || text[position] == '\n')
            {
                throw Error("unterminated string");
            }
            var c = text[position++];
            if (c == '"')
            {
                return value.ToString();
            }
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }
            var escape = position < text.Length ? text[position++] : '\0';
            switch (escape)
            {
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'u': value.Append(ParseUnicodeEscape(4)); break;
                case 'U': value.Append(ParseUnicodeEscape(8)); break;
                default: throw Error($"invalid escape \\{escape} in string");
            }
        }
    }

    private string ParseUnicodeEscape(int digits)
    {
        if (position + digits > text.Length
            || !int.TryParse(text.AsSpan(position, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var codePoint)
            || !Rune.IsValid(codePoint))
        {
            throw Error("invalid unicode escape in string");
        }
        position += digits;
        return char.ConvertFromUtf32(codePoint);
    }

    private string ParseLiteralString()
    {
        Expect('\'');
        var end = text.IndexOf('\'', position);
        var newline = text.IndexOf('\n', position);
        if (end < 0 || (newline >= 0 && newline < end))
        {
            throw Error("unterminated string");
        }
        var value = text[position..end];
        position = end + 1;
        return value;
    }

    private void SkipSpaces()
    {
        while (position < text.Length && text[position] is ' ' or '\t')
        {
            position++;
        }
    }

    private void SkipWhitespaceCommentsAndNewlines()
    {
        while (position < text.Length)
        {
            var c = text[position];
            if (c == '\n')
            {
                line++;
                position++;
            }
            else if (c is ' ' or '\t' or '\r')
            {
                position++;
            }
            else if (c == '#')
            {
                while (position < text.Length && text[position] != '\n')
                {
                    position++;
                }
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>After a key/value pair or a table header only a comment may follow on the line.</summary>
    private void EndOfLine()
    {
        SkipSpaces();
        if (Peek(0) == '#')
        {
            while (position < text.Length && text[position] != '\n')
            {
                position++;
            }
        }
        if (Peek(0) == '\r')
        {
            position++;
        }
        if (position < text.Length && text[position] != '\n')
        {
            throw Error($"unexpected \"{text[position]}\" after the value");
        }
    }

    private void Expect(char wanted)
    {
        if (Peek(0) != wanted)
        {
            throw Error($"expected '{wanted}'");
        }
        position++;
    }

    private char Peek(int offset) => position + offset < text.Length ? text[position + offset] : '\0';

    private InvalidArgumentException Error(string message) =>
        new($"{source}:{line.ToString(CultureInfo.InvariantCulture)}: {message}");
}
