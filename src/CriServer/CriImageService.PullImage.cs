using CriOci.Cri.V1;
using CriOci.ImageStore;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriImageService
{
    /// <summary>
    /// Returns the image ID as image_ref, as containerd does: kubelet passes it back in
    /// CreateContainer's config.image.image, and an ID cannot be re-tagged under it.
    /// </summary>
    public override async Task<PullImageResponse> PullImage(PullImageRequest request, ServerCallContext context)
    {
        var reference = Required(Required(request.Image, "image").Image, "image.image");
        var record = await images.PullAsync(reference, ToCredentials(request.Auth), context.CancellationToken);
        return new PullImageResponse { ImageRef = record.Id };
    }

    /// <summary>server_address is not needed: credentials apply to the registry of the reference being pulled.</summary>
    private static RegistryCredentials? ToCredentials(AuthConfig? auth) => auth is null ? null : new RegistryCredentials(
        Username: NullIfEmpty(auth.Username),
        Password: NullIfEmpty(auth.Password),
        Auth: NullIfEmpty(auth.Auth),
        IdentityToken: NullIfEmpty(auth.IdentityToken),
        RegistryToken: NullIfEmpty(auth.RegistryToken));

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
