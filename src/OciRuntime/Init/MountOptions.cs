using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// A mount's options (fstab words, as in config.json) split into mount(2) flags, propagation
/// flags applied afterwards, recursive attributes (rro, ...) applied last, and the data string
/// handed to the file system.
/// </summary>
public sealed record MountOptions(ulong Flags, ulong ClearFlags, ulong Propagation, string Data, bool Bind, bool Recursive)
{
    public RecursiveMountAttributes RecursiveAttributes { get; init; } = RecursiveMountAttributes.None;

    /// <summary>"idmap" or "ridmap" (runtime-spec 1.1): the bind mount is id-mapped, by the runtime's side, before the init moves it in.</summary>
    public bool IdMapped { get; init; }

    /// <summary>"ridmap": the submounts of the source are id-mapped too.</summary>
    public bool IdMapRecursive { get; init; }

    private static readonly Dictionary<string, (bool Clear, ulong Flag)> FlagWords = new(StringComparer.Ordinal)
    {
        ["ro"] = (false, MS_RDONLY),
        ["rw"] = (true, MS_RDONLY),
        ["nosuid"] = (false, MS_NOSUID),
        ["suid"] = (true, MS_NOSUID),
        ["nodev"] = (false, MS_NODEV),
        ["dev"] = (true, MS_NODEV),
        ["noexec"] = (false, MS_NOEXEC),
        ["exec"] = (true, MS_NOEXEC),
        ["sync"] = (false, MS_SYNCHRONOUS),
        ["async"] = (true, MS_SYNCHRONOUS),
        ["dirsync"] = (false, MS_DIRSYNC),
        ["remount"] = (false, MS_REMOUNT),
        ["mand"] = (false, MS_MANDLOCK),
        ["nomand"] = (true, MS_MANDLOCK),
        ["atime"] = (true, MS_NOATIME),
        ["noatime"] = (false, MS_NOATIME),
        ["diratime"] = (true, MS_NODIRATIME),
        ["nodiratime"] = (false, MS_NODIRATIME),
        ["relatime"] = (false, MS_RELATIME),
        ["norelatime"] = (true, MS_RELATIME),
        ["strictatime"] = (false, MS_STRICTATIME),
        ["nostrictatime"] = (true, MS_STRICTATIME),
        ["nosymfollow"] = (false, MS_NOSYMFOLLOW),
        ["symfollow"] = (true, MS_NOSYMFOLLOW),
        ["lazytime"] = (false, MS_LAZYTIME),
        ["nolazytime"] = (true, MS_LAZYTIME),
    };

    private static readonly Dictionary<string, ulong> PropagationWords = new(StringComparer.Ordinal)
    {
        ["private"] = MS_PRIVATE,
        ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED,
        ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE,
        ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE,
        ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    public static MountOptions Parse(string? type, IReadOnlyList<string>? options)
    {
        ulong flags = 0, clear = 0, propagation = 0;
        var bind = type is "bind" or "rbind";
        var recursive = type == "rbind";
        var data = new List<string>();
        var recursiveAttributes = RecursiveMountAttributes.None;
        bool idMapped = false, idMapRecursive = false;
        foreach (var option in options ?? [])
        {
            if (option is "idmap" or "ridmap")
            {
                idMapped = true;
                idMapRecursive |= option == "ridmap";
            }
            else if (option is "bind" or "rbind")
            {
                bind = true;
                recursive |= option == "rbind";
            }
            else if (FlagWords.TryGetValue(option, out var word))
            {
                if (word.Clear)
                {
                    flags &= ~word.Flag;
                    clear |= word.Flag;
                }
                else
                {
                    flags |= word.Flag;
                    clear &= ~word.Flag;
                }
            }
            else if (PropagationWords.TryGetValue(option, out var propagationFlag))
            {
                propagation = propagationFlag;
            }
            else if (recursiveAttributes.TryAdd(option, out var withOption))
            {
                recursiveAttributes = withOption;
            }
            else if (option is "defaults")
            {
            }
            else
            {
                data.Add(option);
            }
        }
        return new MountOptions(flags, clear, propagation, string.Join(',', data), bind, recursive)
        {
            RecursiveAttributes = recursiveAttributes,
            IdMapped = idMapped,
            IdMapRecursive = idMapRecursive,
        };
    }

    /// <summary>Every option word <see cref="Parse"/> gives a meaning to (for `features`).</summary>
    public static IEnumerable<string> KnownWords(bool recursiveAttributes) =>
        FlagWords.Keys.Concat(PropagationWords.Keys).Concat(recursiveAttributes ? RecursiveMountAttributes.Words : [])
            .Append("bind").Append("rbind").Append("defaults").Append("idmap").Append("ridmap");

    /// <summary>Parses a rootfsPropagation value (runtime-spec config-linux.md).</summary>
    public static ulong RootPropagation(string? value) => value switch
    {
        null or "" => MS_SLAVE | MS_REC,
        _ when PropagationWords.TryGetValue(value, out var flag) => flag | MS_REC,
        _ => throw new ArgumentException($"rootfsPropagation: unknown value {value}"),
    };
}
