using System.Globalization;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// Turns the security context and the image's USER into uid, gid and groups, reading the
/// image's /etc/passwd and /etc/group through openat2(RESOLVE_IN_ROOT) so that a symlink in
/// the image cannot make the daemon read a host file.
/// </summary>
internal static class UserResolver
{
    public static ResolvedUser Resolve(string rootfs, LinuxContainerSecurityContext? security, string? imageUser)
    {
        using var root = new RootedPath(rootfs);
        var passwd = ReadLines(root, "/etc/passwd");
        var groups = ReadLines(root, "/etc/group");

        uint uid;
        uint? gid = null;
        string? userName = null;
        if (security?.RunAsUser is { } runAsUser)
        {
            uid = checked((uint)runAsUser.Value);
        }
        else if (!string.IsNullOrEmpty(security?.RunAsUsername))
        {
            (uid, gid) = LookupUser(passwd, security.RunAsUsername);
            userName = security.RunAsUsername;
        }
        else
        {
            var user = imageUser ?? "";
            var colon = user.IndexOf(':');
            var userPart = colon < 0 ? user : user[..colon];
            var groupPart = colon < 0 ? null : user[(colon + 1)..];
            if (userPart.Length == 0)
            {
                uid = 0;
            }
            else if (uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out uid))
            {
            }
            else
            {
                (uid, gid) = LookupUser(passwd, userPart);
                userName = userPart;
            }
            if (!string.IsNullOrEmpty(groupPart))
            {
                gid = uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric)
                    ? numeric
                    : LookupGroup(groups, groupPart);
            }
        }
        userName ??= passwd.Select(Fields).FirstOrDefault(f => f.Length > 2 && f[2] == uid.ToString(CultureInfo.InvariantCulture))?[0];
        gid ??= userName is null ? 0 : LookupUser(passwd, userName).Gid;
        if (security?.RunAsGroup is { } runAsGroup)
        {
            gid = checked((uint)runAsGroup.Value);
        }

        var additional = new List<uint>();
        // Merge (the default) adds the group memberships the image grants the user, as
        // containerd and CRI-O do; Strict gives exactly the groups the pod asked for, so an
        // image cannot widen them.
        if (userName is not null && security?.SupplementalGroupsPolicy != SupplementalGroupsPolicy.Strict)
        {
            foreach (var fields in groups.Select(Fields))
            {
                if (fields.Length > 3 && fields[3].Split(',').Contains(userName)
                    && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var member))
                {
                    additional.Add(member);
                }
            }
        }
        foreach (var supplemental in security?.SupplementalGroups ?? [])
        {
            additional.Add(checked((uint)supplemental));
        }
        return new ResolvedUser(uid, gid.Value, additional.Distinct().Where(g => g != gid.Value).ToList());
    }

    private static (uint Uid, uint Gid) LookupUser(IReadOnlyList<string> passwd, string name)
    {
        foreach (var fields in passwd.Select(Fields))
        {
            if (fields.Length > 3 && fields[0] == name
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return (uid, gid);
            }
        }
        throw new InvalidArgumentException($"user {name} not found in the image's /etc/passwd");
    }

    private static uint LookupGroup(IReadOnlyList<string> groups, string name)
    {
        foreach (var fields in groups.Select(Fields))
        {
            if (fields.Length > 2 && fields[0] == name && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return gid;
            }
        }
        throw new InvalidArgumentException($"group {name} not found in the image's /etc/group");
    }

    private static string[] Fields(string line) => line.Split(':');

    private static IReadOnlyList<string> ReadLines(RootedPath root, string path)
    {
        var fd = root.TryOpen(path, flags: 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return [];
        }
        using var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                lines.Add(line);
            }
        }
        return lines;
    }
}
