using System.Text.RegularExpressions;
using CriOci.Core;

namespace CriOci.CriServer;

/// <summary>
/// Checks shared by the handlers. Messages name the field by its api.proto path
/// ("config.metadata.name"), so a crictl user can see which part of their JSON is wrong.
/// </summary>
internal static partial class RequestValidation
{
    /// <summary>crioci's IDs are 64 hex digits; crictl and containerd also accept a unique prefix.</summary>
    private const int MaxIdLength = 64;

    /// <summary>Kubernetes object names are DNS subdomains: at most 253 characters (pods; containers and namespaces are shorter).</summary>
    private const int MaxNameLength = 253;

    /// <summary>HOST_NAME_MAX: sethostname(2) refuses more.</summary>
    private const int MaxHostnameLength = 64;

    /// <summary>How much of a refused value a message repeats: a 1 MiB value must not come back whole.</summary>
    private const int QuotedValueLength = 80;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.+-]*\z")]
    private static partial Regex IdAlphabet();

    public static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new InvalidArgumentException($"{field} is required") : value;

    public static T Required<T>(T? message, string field) where T : class =>
        message ?? throw new InvalidArgumentException($"{field} is required");

    public static IReadOnlyList<T> RequiredItems<T>(IReadOnlyList<T> items, string field) =>
        items.Count == 0 ? throw new InvalidArgumentException($"{field} is required") : items;

    /// <summary>CRI timeouts are whole seconds; zero means "no limit" or "at once", never negative.</summary>
    public static TimeSpan Seconds(long seconds, string field) =>
        seconds < 0 ? throw new InvalidArgumentException($"{field} must not be negative, got {seconds}") : TimeSpan.FromSeconds(seconds);

    /// <summary>
    /// A pod or container ID (or a prefix of one). A value no ID could have is malformed, not
    /// unknown: it is refused even where an unknown ID succeeds (Stop*, Remove*), so a "../x"
    /// never gets as far as a lookup that might one day build a path from it.
    /// </summary>
    public static string Id(string? value, string field)
    {
        var id = Required(value, field);
        if (id.Length > MaxIdLength || !IdAlphabet().IsMatch(id))
        {
            throw new InvalidArgumentException(
                $"{field} {Quote(id)} is not an ID: at most {MaxIdLength} letters, digits and _.+- not starting with a punctuation mark");
        }
        return id;
    }

    /// <summary>
    /// A name from metadata. It becomes part of the names crioci reserves and of the pod's
    /// default hostname, and kubelet builds directory names from the same values, so a value
    /// that could climb or split a path is refused.
    /// </summary>
    public static string Name(string? value, string field)
    {
        var name = Required(value, field);
        if (name.Length > MaxNameLength)
        {
            throw new InvalidArgumentException($"{field} is {name.Length} characters long, more than the {MaxNameLength} a Kubernetes name may have");
        }
        if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidArgumentException($"{field} {Quote(name)} must not be \".\" or \"..\" nor contain '/' or NUL");
        }
        return name;
    }

    /// <summary>The pod's hostname, when it gives one (otherwise its name is used).</summary>
    public static void Hostname(string value, string field)
    {
        if (value.Length > MaxHostnameLength)
        {
            throw new InvalidArgumentException($"{field} is {value.Length} characters long, more than the {MaxHostnameLength} the kernel allows");
        }
    }

    /// <summary>A path kubelet gives relative to a directory (log_path under log_directory) must stay inside it.</summary>
    public static void RelativeInside(string value, string field)
    {
        if (value.Length > 0 && (Path.IsPathRooted(value) || HasParentComponent(value)))
        {
            throw new InvalidArgumentException($"{field} {Quote(value)} must be a relative path without \"..\"");
        }
    }

    /// <summary>A directory path the daemon writes under; relative would mean the daemon's working directory.</summary>
    public static void AbsoluteDirectory(string value, string field)
    {
        if (value.Length > 0 && (!Path.IsPathRooted(value) || HasParentComponent(value)))
        {
            throw new InvalidArgumentException($"{field} {Quote(value)} must be an absolute path without \"..\"");
        }
    }

    /// <summary>A cgroup path is joined under each controller's mount: ".." would leave it (or enter another controller).</summary>
    public static void CgroupParent(string? value, string field)
    {
        if (!string.IsNullOrEmpty(value) && HasParentComponent(value))
        {
            throw new InvalidArgumentException($"{field} {Quote(value)} must not contain \"..\"");
        }
    }

    /// <summary>
    /// protobuf keeps enum numbers it does not know; one outside api.proto's values would
    /// otherwise fall into a switch's default and silently mean something else.
    /// </summary>
    public static void Defined<TEnum>(TEnum value, string field) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new InvalidArgumentException($"{field}: {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)} is not a value api.proto defines");
        }
    }

    /// <summary>The modes of the namespaces a pod or container asks for.</summary>
    public static void NamespaceModes(Cri.V1.NamespaceOption? options, string field)
    {
        if (options is null)
        {
            return;
        }
        Defined(options.Network, $"{field}.network");
        Defined(options.Pid, $"{field}.pid");
        Defined(options.Ipc, $"{field}.ipc");
    }

    private static bool HasParentComponent(string path) => path.Split('/').Contains("..");

    private static string Quote(string value) =>
        value.Length <= QuotedValueLength ? $"\"{value}\"" : $"\"{value[..QuotedValueLength]}...\" ({value.Length} characters)";
}
