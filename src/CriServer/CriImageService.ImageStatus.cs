using System.Text.Json;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>
    /// cri-api api.proto ImageStatus: "If the image is not present, returns a response with
    /// ImageStatusResponse.Image set to nil." kubelet decides to pull on exactly that, so a
    /// missing image is a success, never NotFound.
    /// </summary>
    public override Task<ImageStatusResponse> ImageStatus(ImageStatusRequest request, ServerCallContext context)
    {
        var reference = Required(Required(request.Image, "image").Image, "image.image");
        var response = new ImageStatusResponse();
        if (images.Find(reference) is not { } record)
        {
            return Task.FromResult(response);
        }
        response.Image = ImageMapping.ToCri(record, images.IsPinned(record));
        if (request.Verbose)
        {
            // Free-form JSON for crictl inspecti; "info" as containerd names it.
            response.Info["info"] = JsonSerializer.Serialize(record.Config, CriJsonContext.Default.ImageConfig);
        }
        return Task.FromResult(response);
    }
}
