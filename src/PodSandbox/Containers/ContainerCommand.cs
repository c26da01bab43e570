using CriOci.Core;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// The command a container runs, merged from the CRI config and the image as Kubernetes
/// specifies (a container's command replaces the image's ENTRYPOINT and drops its CMD; args
/// replace CMD) and as containerd implements it.
/// </summary>
public static class ContainerCommand
{
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string> command, IReadOnlyList<string> args,
        IReadOnlyList<string> imageEntrypoint, IReadOnlyList<string> imageCmd)
    {
        IReadOnlyList<string> effectiveCommand = command;
        var effectiveArgs = args;
        if (command.Count == 0)
        {
            if (args.Count == 0)
            {
                effectiveArgs = imageCmd;
            }
            // An ENTRYPOINT of [""] is Docker's way of saying "no entrypoint".
            effectiveCommand = imageEntrypoint is [""] ? [] : imageEntrypoint;
        }
        var result = effectiveCommand.Concat(effectiveArgs).ToList();
        if (result.Count == 0)
        {
            throw new InvalidArgumentException("no command specified: the container config and the image give neither command nor args");
        }
        return result;
    }

    /// <summary>Image environment first, then the container's, later keys replacing earlier ones in place.</summary>
    public static IReadOnlyList<string> MergeEnvironment(IReadOnlyList<string> imageEnv, IEnumerable<(string Key, string Value)> containerEnv)
    {
        var order = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string key, string entry)
        {
            if (!values.ContainsKey(key))
            {
                order.Add(key);
            }
            values[key] = entry;
        }
        foreach (var entry in imageEnv)
        {
            var equals = entry.IndexOf('=');
            Set(equals < 0 ? entry : entry[..equals], entry);
        }
        foreach (var (key, value) in containerEnv)
        {
            Set(key, $"{key}={value}");
        }
        return order.Select(key => values[key]).ToList();
    }
}
