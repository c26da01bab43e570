using CriOci.Core;

namespace CriOci.ImageStore.Unpack;

/// <summary>
/// Turns a tar entry name (or hard link target) into path components relative to the layer
/// root. A leading "/" means the layer root, as for Docker's and containerd's unpackers; "."
/// is dropped and ".." is applied lexically, and a name that climbs above the root is refused
/// rather than clamped, because no well-formed layer has one.
/// </summary>
internal static class EntryPath
{
    public static IReadOnlyList<string> Split(string name, string entryName)
    {
        var components = new List<string>();
        foreach (var component in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (component == ".")
            {
                continue;
            }
            if (component == "..")
            {
                if (components.Count == 0)
                {
                    throw new InvalidArgumentException($"layer entry \"{entryName}\" points outside the layer directory");
                }
                components.RemoveAt(components.Count - 1);
                continue;
            }
            if (component.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidArgumentException($"layer entry \"{entryName}\" has a NUL byte in its name");
            }
            components.Add(component);
        }
        return components;
    }
}
