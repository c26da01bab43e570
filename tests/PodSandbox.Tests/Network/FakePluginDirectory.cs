using System.Text.Json.Nodes;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>
/// A temporary CNI_PATH with shell-script plugins and a CNI config directory. Each plugin run
/// records its CNI_* environment and its stdin as "NNN-TYPE-COMMAND.env/.stdin" in <see cref="Calls"/>,
/// then does what the test scripted (print a result, fail, hang).
/// </summary>
internal sealed class FakePluginDirectory : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crioci-cni-").FullName;

    public FakePluginDirectory()
    {
        Directory.CreateDirectory(BinDirectory);
        Directory.CreateDirectory(ConfigDirectory);
        Directory.CreateDirectory(Calls);
        Directory.CreateDirectory(CacheDirectory);
    }

    public string BinDirectory => Path.Combine(_root, "bin");

    public string ConfigDirectory => Path.Combine(_root, "net.d");

    public string Calls => Path.Combine(_root, "calls");

    public string CacheDirectory => Path.Combine(_root, "pod");

    public string Netns => Path.Combine(_root, "netns");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A plugin whose script body (after recording) is <paramref name="action"/>; $stdin holds its input.</summary>
    public void AddPlugin(string type, string action)
    {
        var path = Path.Combine(BinDirectory, type);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            stdin=$(cat)
            n=$(ls "{{Calls}}" | wc -l)
            f="{{Calls}}/$(printf %03d "$n")-{{type}}-$CNI_COMMAND"
            env | grep '^CNI_' | sort > "$f.env.tmp"
            printf '%s' "$stdin" > "$f.stdin"
            mv "$f.env.tmp" "$f.env"
            {{action}}

            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>A plugin that answers ADD with <paramref name="result"/> and everything else with nothing.</summary>
    public void AddResultPlugin(string type, string result) =>
        AddPlugin(type, $$"""
            if [ "$CNI_COMMAND" = ADD ]; then cat <<'EOF'
            {{result}}
            EOF
            fi
            """);

    public void WriteConfig(string fileName, string json) => File.WriteAllText(Path.Combine(ConfigDirectory, fileName), json);

    /// <summary>Recorded runs in order: (type, command, env as key=value lines, stdin as JSON).</summary>
    public IReadOnlyList<(string Type, string Command, Dictionary<string, string> Env, JsonObject Stdin)> Recorded()
    {
        var runs = new List<(string, string, Dictionary<string, string>, JsonObject)>();
        foreach (var envFile in Directory.GetFiles(Calls, "*.env").Order(StringComparer.Ordinal))
        {
            var parts = Path.GetFileNameWithoutExtension(envFile).Split('-');
            var env = File.ReadAllLines(envFile)
                .Select(line => line.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
            var stdin = JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(envFile, ".stdin")))!.AsObject();
            runs.Add((parts[1], parts[2], env, stdin));
        }
        return runs;
    }
}

internal static class Fixtures
{
    /// <summary>Live (non-zombie) processes whose command line mentions <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> LiveProcessesRunning(string text)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                if (commandLine.Contains(text, StringComparison.Ordinal) && !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }
        return found;
    }
}
