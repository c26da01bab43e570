using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>filter.image.image, when set, selects the one image it names (reference or ID); otherwise all.</summary>
    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var filter = request.Filter?.Image?.Image;
        IReadOnlyList<ImageStore.ImageRecord> records = string.IsNullOrEmpty(filter)
            ? images.List()
            : images.Find(filter) is { } match ? [match] : [];
        var response = new ListImagesResponse();
        response.Images.AddRange(records.Select(record => ImageMapping.ToCri(record, images.IsPinned(record))));
        return Task.FromResult(response);
    }
}
