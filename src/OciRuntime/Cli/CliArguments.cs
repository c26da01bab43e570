namespace CriOci.OciRuntime.Cli;

/// <summary>
/// runc-style arguments: global flags, a verb, then the verb's flags and positional values.
/// Flags take "--name value", "--name=value" or, for switches, just "--name".
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string?> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    /// <param name="flagsEndAfter">
    /// After this many positional values the rest are positional too: `exec ID sh -c CMD` passes
    /// `-c` to the command, as runc's flag parsing does.
    /// </param>
    public static CliArguments Parse(IReadOnlyList<string> args, IReadOnlySet<string> switches, int flagsEndAfter = int.MaxValue)
    {
        var parsed = new CliArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (parsed._positional.Count >= flagsEndAfter)
            {
                parsed._positional.AddRange(args.Skip(i));
                break;
            }
            if (arg == "--")
            {
                parsed._positional.AddRange(args.Skip(i + 1));
                break;
            }
            if (arg.StartsWith('-') && arg.Length > 1)
            {
                var name = arg.TrimStart('-');
                string? value = null;
                var equals = name.IndexOf('=');
                if (equals >= 0)
                {
                    value = name[(equals + 1)..];
                    name = name[..equals];
                }
                else if (!switches.Contains(name))
                {
                    value = i + 1 < args.Count ? args[++i] : throw new CliException($"flag --{name} needs a value");
                }
                parsed._flags[name] = value ?? "true";
                continue;
            }
            parsed._positional.Add(arg);
        }
        return parsed;
    }

    public IReadOnlyList<string> Positional => _positional;

    public string? Flag(params string[] names)
    {
        foreach (var name in names)
        {
            if (_flags.TryGetValue(name, out var value))
            {
                return value;
            }
        }
        return null;
    }

    public bool Switch(params string[] names) => Flag(names) is "true" or "1";

    public string Required(int index, string what) =>
        index < _positional.Count ? _positional[index] : throw new CliException($"missing {what}");
}

/// <summary>A usage error: printed and turned into exit code 1, like runc.</summary>
public sealed class CliException(string message) : Exception(message);
