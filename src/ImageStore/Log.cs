using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore;

/// <summary>The image store's log messages, with stable event IDs (1xxx). Credentials never appear.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Pulling image {Reference}")]
    public static partial void PullStarted(ILogger logger, string reference);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Pulled image {Reference} as {ImageId} ({Size} bytes) in {ElapsedMilliseconds} ms")]
    public static partial void PullCompleted(ILogger logger, string reference, string imageId, long size, long elapsedMilliseconds);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Pulling image {Reference} failed")]
    public static partial void PullFailed(ILogger logger, string reference, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Layer {ChainId} is already unpacked; reusing it")]
    public static partial void LayerReused(ILogger logger, string chainId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Unpacked {Layer} as {ChainId}")]
    public static partial void LayerUnpacked(ILogger logger, string layer, string chainId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Removed image {ImageId}")]
    public static partial void ImageRemoved(ILogger logger, string imageId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Tag {Tags} moved from image {OldImageId} to {NewImageId}")]
    public static partial void TagMoved(ILogger logger, string tags, string oldImageId, string newImageId);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Deleted {Count} unused layers")]
    public static partial void LayersCollected(ILogger logger, int count);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Skipped xattr {Xattr} of {Entry} in {Layer}: {Reason}")]
    public static partial void XattrSkipped(ILogger logger, string xattr, string entry, string layer, string reason);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Deleting the unused layers and blobs of removed image {ImageId} failed; the next start retries")]
    public static partial void CollectionFailed(ILogger logger, string imageId, Exception exception);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "{Operation} failed (attempt {Attempt}), retrying in {DelayMilliseconds} ms: {Reason}")]
    public static partial void RegistryRetry(ILogger logger, string operation, int attempt, long delayMilliseconds, string reason);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "{Operation}: host {Host} failed, trying the next one: {Reason}")]
    public static partial void RegistryHostFailed(ILogger logger, string operation, string host, string reason);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Information, Message = "Garbage collection deleted {Blobs} blobs ({Bytes} bytes) and {Layers} layers")]
    public static partial void GarbageCollected(ILogger logger, int blobs, long bytes, int layers);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "Image record {Path} is unreadable; the image is ignored")]
    public static partial void MetadataUnreadable(ILogger logger, string path, Exception exception);
}
