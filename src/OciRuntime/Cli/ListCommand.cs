using System.Text.Json;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Cli;

/// <summary>`list [--format table|json] [--quiet]`: the containers under --root, as runc lists them.</summary>
internal static class ListCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var ids = runtime.ListIds();
        if (args.Switch("quiet", "q"))
        {
            foreach (var id in ids)
            {
                Console.WriteLine(id);
            }
            return 0;
        }
        var rows = ids.Select(id => (Id: id, State: runtime.GetState(id), File: runtime.StateFile(id)))
            .Where(r => r.State is not null && r.File is not null).ToList();
        if (args.Flag("format", "f") == "json")
        {
            using var output = Console.OpenStandardOutput();
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartArray();
            foreach (var (id, state, file) in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("ociVersion", Spec.SpecDefaults.OciVersion);
                writer.WriteString("id", id);
                writer.WriteNumber("pid", state!.Status == ContainerStatus.Stopped ? 0 : state.Pid);
                writer.WriteString("status", state.Status.ToSpecString());
                writer.WriteString("bundle", file!.Bundle);
                writer.WriteString("rootfs", Path.Combine(file.Bundle, "rootfs"));
                writer.WriteString("created", file.Created.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteString("owner", "root");
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.Flush();
            output.WriteByte((byte)'\n');
            return 0;
        }
        Console.WriteLine("ID\tPID\tSTATUS\tBUNDLE\tCREATED");
        foreach (var (id, state, file) in rows)
        {
            Console.WriteLine($"{id}\t{state!.Pid}\t{state.Status.ToSpecString()}\t{file!.Bundle}\t{file.Created:O}");
        }
        return 0;
    }
}
