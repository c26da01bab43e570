using CriOci.Core;
using CriOci.ImageStore;

namespace CriOci.CriServer.Images;

/// <summary>
/// <c>crioci images import|export</c>: loads an air-gapped node from an OCI image layout, or
/// saves an image as one. It opens the store directly under the daemon's instance lock: the
/// store's leases and garbage collection live in one process, so a second process writing
/// while the daemon runs could collect what a pull of the daemon is fetching. With the daemon
/// running the command refuses and says so; stopping the daemon does not stop containers.
/// </summary>
internal static class ImagesCommand
{
    private const int ExitFailure = 1;
    private const int ExitUsage = 2;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (args is [] or ["--help" or "-h"] or [_, "--help" or "-h"])
        {
            await output.WriteLineAsync(ImagesCommandLine.Usage);
            return args.Count == 0 ? ExitUsage : 0;
        }
        ImagesRequest request;
        try
        {
            var (parsed, usageError) = ImagesCommandLine.Parse(args);
            if (parsed is null)
            {
                await error.WriteLineAsync($"crioci images: {usageError}\n\n{ImagesCommandLine.Usage}");
                return ExitUsage;
            }
            request = parsed;
        }
        catch (DaemonConfigException ex)
        {
            await error.WriteLineAsync($"crioci images: {ex.Message}");
            return ExitFailure;
        }

        try
        {
            DaemonDirectories.Create(request.Options);
            using var instanceLock = AcquireStore(request.Options);
            ImageStaging.RemoveInterrupted(request.Options.RootDirectory);
            var images = ImageServiceFactory.Create(request.Options.ImageStore);
            if (request.Import)
            {
                foreach (var image in await ImportAsync(images, request, cancellationToken))
                {
                    await output.WriteLineAsync($"imported {string.Join(", ", image.RepoTags.Concat(image.RepoDigests).DefaultIfEmpty("(no name)"))} {image.Id}");
                }
            }
            else
            {
                await ExportAsync(images, request, cancellationToken);
                await output.WriteLineAsync($"exported {request.Image} to {request.Path}");
            }
            return 0;
        }
        catch (Exception ex) when (ex is CriOciException or DaemonConfigException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"crioci images: {ex.Message}");
            return ExitFailure;
        }
    }

    /// <summary>The daemon's own lock: held while the command runs, so the daemon cannot start halfway either.</summary>
    private static InstanceLock AcquireStore(DaemonOptions options)
    {
        try
        {
            return InstanceLock.Acquire(options.RootDirectory, options.LockFilePath);
        }
        catch (DaemonConfigException ex)
        {
            throw new DaemonConfigException(
                $"a crioci daemon is running with root {options.RootDirectory} (lock {options.LockFilePath} is held): "
                + "the image store is changed by one process at a time. Stop the daemon (its containers keep running), run this again, then start it.",
                ex);
        }
    }

    private static async Task<IReadOnlyList<ImageRecord>> ImportAsync(IImageService images, ImagesRequest request, CancellationToken cancellationToken)
    {
        if (!LayoutArchive.IsArchivePath(request.Path))
        {
            return await images.ImportLayoutAsync(request.Path, request.BaseName, cancellationToken);
        }
        // Extracted next to the store, on its filesystem, and removed whatever happens.
        var extracted = ImageStaging.NewDirectory(request.Options.RootDirectory, "import");
        try
        {
            Directory.CreateDirectory(extracted);
            await LayoutArchive.ExtractAsync(request.Path, extracted, cancellationToken);
            return await images.ImportLayoutAsync(extracted, request.BaseName, cancellationToken);
        }
        finally
        {
            Directory.Delete(extracted, recursive: true);
        }
    }

    private static async Task ExportAsync(IImageService images, ImagesRequest request, CancellationToken cancellationToken)
    {
        if (!request.Path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
        {
            await images.ExportLayoutAsync(request.Image!, request.Path, cancellationToken);
            return;
        }
        var staged = ImageStaging.NewDirectory(request.Options.RootDirectory, "export");
        try
        {
            await images.ExportLayoutAsync(request.Image!, staged, cancellationToken);
            await LayoutArchive.CreateAsync(staged, request.Path, cancellationToken);
        }
        finally
        {
            if (Directory.Exists(staged))
            {
                Directory.Delete(staged, recursive: true);
            }
        }
    }
}
