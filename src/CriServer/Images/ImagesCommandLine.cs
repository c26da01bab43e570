namespace CriOci.CriServer.Images;

/// <summary>What <c>crioci images import|export</c> was asked to do.</summary>
/// <param name="Import">True for import, false for export.</param>
/// <param name="Image">export: the image (reference or ID); import: null.</param>
/// <param name="Path">import: the layout directory or .tar; export: the directory or .tar to write.</param>
/// <param name="BaseName">import --name: the repository that entries named only by a tag (or not at all) are recorded under.</param>
/// <param name="Options">The daemon's options (--root, --config and the rest), so the command opens the daemon's store.</param>
internal sealed record ImagesRequest(bool Import, string? Image, string Path, string? BaseName, DaemonOptions Options);

/// <summary>
/// Parses <c>crioci images import [--name REPO] [daemon flags] LAYOUT</c> and
/// <c>crioci images export [daemon flags] IMAGE TARGET</c>. Daemon flags (--root, --config, ...)
/// and CRIOCI_* variables mean what they mean to the daemon, so the command finds the same store.
/// </summary>
internal static class ImagesCommandLine
{
    public const string Usage = """
        Usage: crioci images import [--name REPO] [--root DIR] [--config FILE] LAYOUT
               crioci images export [--root DIR] [--config FILE] IMAGE TARGET

        Loads or saves OCI image layouts (image-spec image-layout.md), for nodes without a registry.
          import   every image of LAYOUT (a directory, or a .tar of one) into the store; an entry is
                   named by its io.containerd.image.name annotation, a full reference in
                   org.opencontainers.image.ref.name, or that tag of --name REPO
          export   IMAGE (reference or ID) into TARGET: a layout directory (created, or added to)
                   or, when TARGET ends in .tar, a tar archive of a layout
        The store is opened directly, so no daemon may be running on the same --root: stop it
        first (running containers are not affected), then start it again.
        Any daemon flag (see crioci --help) is accepted and read the same way, e.g. --config.
        """;

    /// <summary>The request, or a usage error message.</summary>
    public static (ImagesRequest? Request, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        if (args.Count == 0 || args[0] is not ("import" or "export"))
        {
            return (null, "expected import or export");
        }
        var import = args[0] == "import";
        string? baseName = null;
        var positional = new List<string>();
        var daemonArgs = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--name" || arg.StartsWith("--name=", StringComparison.Ordinal))
            {
                if (!import)
                {
                    return (null, "--name applies to import only");
                }
                baseName = arg.Length > "--name".Length ? arg["--name=".Length..] : i + 1 < args.Count ? args[++i] : null;
                if (string.IsNullOrEmpty(baseName))
                {
                    return (null, "--name needs a value");
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                // Daemon flags all take a value: "--root DIR" or "--root=DIR".
                daemonArgs.Add(arg);
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Count)
                {
                    daemonArgs.Add(args[++i]);
                }
            }
            else
            {
                positional.Add(arg);
            }
        }
        if (positional.Count != (import ? 1 : 2))
        {
            return (null, import ? "import takes one layout (a directory or a .tar)" : "export takes an image and a target (a directory or a .tar)");
        }
        var daemon = DaemonCommandLine.Parse(daemonArgs, environment);
        if (daemon.Options is not { } options)
        {
            return (null, daemon.Error ?? "unexpected arguments");
        }
        return import
            ? (new ImagesRequest(true, null, System.IO.Path.GetFullPath(positional[0]), baseName, options), null)
            : (new ImagesRequest(false, positional[0], System.IO.Path.GetFullPath(positional[1]), null, options), null);
    }
}
