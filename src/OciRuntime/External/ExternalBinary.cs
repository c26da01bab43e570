namespace CriOci.OciRuntime.External;

/// <summary>
/// A runc-compatible OCI runtime binary (runc, crun, ...) as one runtime handler uses it: every
/// call gets the same global options, so the binary keeps this handler's containers under its
/// own <paramref name="Root"/> and never sees another handler's (or the host's) containers.
/// </summary>
/// <param name="Path">The executable.</param>
/// <param name="Root">The binary's --root: where it keeps its own per-container state (tmpfs).</param>
/// <param name="ExtraArgs">Further global options, placed before the verb (e.g. "--systemd-cgroup").</param>
public sealed record ExternalBinary(string Path, string Root, IReadOnlyList<string> ExtraArgs)
{
    /// <summary>The full argv of one call: binary, global options, then <paramref name="verbAndArguments"/>.</summary>
    public List<string> Command(params IEnumerable<string> verbAndArguments) =>
        [Path, "--root", Root, .. ExtraArgs, .. verbAndArguments];

    /// <summary>How the monitor is told about the binary (see <see cref="FromMonitorArguments"/>).</summary>
    public IEnumerable<string> ToMonitorArguments() => ["--external", Path, "--external-root", Root, "--", .. ExtraArgs];

    /// <summary>Extra arguments travel as the monitor's positional values, after "--", so any option text survives.</summary>
    public static ExternalBinary? FromMonitorArguments(string? path, string? root, IReadOnlyList<string> positional) =>
        path is null ? null : new ExternalBinary(path, root ?? throw new ArgumentException("--external needs --external-root"), [.. positional]);
}
