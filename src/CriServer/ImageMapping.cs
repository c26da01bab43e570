using CriOci.Cri.V1;
using CriOci.ImageStore;
using CriOci.PodSandbox;

namespace CriOci.CriServer;

/// <summary>Image store records into CRI messages and into what the sandbox manager builds containers from.</summary>
internal static class ImageMapping
{
    /// <param name="pinned">api.proto Image.pinned: "Recommendation on whether this image should be exempt from garbage collection."</param>
    public static Image ToCri(ImageRecord record, bool pinned)
    {
        var image = new Image
        {
            Id = record.Id,
            Size = (ulong)Math.Max(record.Size, 0),
            Spec = new ImageSpec { Image = record.Id },
            Pinned = pinned,
        };
        image.RepoTags.AddRange(record.RepoTags);
        image.RepoDigests.AddRange(record.RepoDigests);
        // api.proto: uid and username are mutually exclusive; kubelet uses them to enforce
        // runAsNonRoot. The OCI config's User is "user", "uid", "user:group" or "uid:gid".
        var user = UserPart(record.Config.User);
        if (long.TryParse(user, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid))
        {
            image.Uid = new Int64Value { Value = uid };
        }
        else if (user is not null)
        {
            image.Username = user;
        }
        return image;
    }

    public static ContainerImage ToContainerImage(ImageRecord record, string reference, IReadOnlyList<string> layerDirectories) => new(
        Id: record.Id,
        Reference: reference,
        LayerDirectories: layerDirectories,
        User: record.Config.User,
        Env: record.Config.Env,
        Entrypoint: record.Config.Entrypoint,
        Cmd: record.Config.Cmd,
        WorkingDir: record.Config.WorkingDir,
        StopSignal: record.Config.StopSignal);

    private static string? UserPart(string? user)
    {
        if (string.IsNullOrEmpty(user))
        {
            return null;
        }
        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? user : user[..colon];
        return name.Length == 0 ? null : name;
    }
}
