using System.Text.Json;
using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Cli;

/// <summary>`ps [--format table|json] ID`: the container's processes (from its cgroup).</summary>
internal static class PsCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var id = args.Required(0, "container ID");
        var pids = runtime.Cgroup(id).Pids();
        if (args.Flag("format", "f") == "json")
        {
            using var output = Console.OpenStandardOutput();
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartArray();
            foreach (var pid in pids)
            {
                writer.WriteNumberValue(pid);
            }
            writer.WriteEndArray();
            writer.Flush();
            output.WriteByte((byte)'\n');
            return 0;
        }
        Console.WriteLine("PID\tCMD");
        foreach (var pid in pids)
        {
            var command = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim() : "";
            Console.WriteLine($"{pid}\t{command}");
        }
        return 0;
    }
}
