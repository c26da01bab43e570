using CriOci.ImageStore.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore;

/// <summary>Creates the image service; the implementation stays internal.</summary>
public static class ImageServiceFactory
{
    /// <summary>
    /// Opens (or creates) the store at <see cref="ImageStoreOptions.RootDirectory"/>, loading
    /// every recorded image and removing what interrupted pulls left behind.
    /// </summary>
    public static IImageService Create(ImageStoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        return new ImageService(options, RegistryClient.Create(options, logger), logger, TimeProvider.System);
    }
}
