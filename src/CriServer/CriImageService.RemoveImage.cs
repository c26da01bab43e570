using CriOci.Core;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>
    /// cri-api api.proto RemoveImage: "This call is idempotent, and must not return an error if
    /// the image has already been removed." An image a container was created from is refused:
    /// its layers are that container's overlay lower dirs.
    /// </summary>
    public override async Task<RemoveImageResponse> RemoveImage(RemoveImageRequest request, ServerCallContext context)
    {
        var reference = Required(Required(request.Image, "image").Image, "image.image");
        if (images.Find(reference) is not { } record)
        {
            return new RemoveImageResponse();
        }
        if (sandboxes.IsImageInUse(record.Id))
        {
            throw new FailedPreconditionException($"image {reference} ({record.Id}) is in use by a container");
        }
        await images.RemoveAsync(record.Id, context.CancellationToken);
        return new RemoveImageResponse();
    }
}
