namespace CriOci.ImageStore.Registry;

/// <summary>
/// The wire image config to the record the runtime builds containers from. Absent lists
/// become empty and empty strings null, so callers test one thing.
/// </summary>
internal static class ImageConfigConverter
{
    public static ImageConfig From(OciImageConfig config)
    {
        var container = config.Config;
        return new ImageConfig(
            User: NullIfEmpty(container?.User),
            Env: Copy(container?.Env),
            Entrypoint: Copy(container?.Entrypoint),
            Cmd: Copy(container?.Cmd),
            WorkingDir: NullIfEmpty(container?.WorkingDir),
            Labels: (container?.Labels ?? new Dictionary<string, string>())
                .Where(label => label.Value is not null)
                .ToDictionary(label => label.Key, label => label.Value, StringComparer.Ordinal),
            StopSignal: NullIfEmpty(container?.StopSignal),
            ExposedPorts: [.. (container?.ExposedPorts?.Keys ?? []).Order(StringComparer.Ordinal)],
            Os: NullIfEmpty(config.Os) ?? "linux",
            Architecture: config.Architecture ?? "");
    }

    private static List<string> Copy(IReadOnlyList<string>? values) => [.. (values ?? []).Where(v => v is not null)];

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
