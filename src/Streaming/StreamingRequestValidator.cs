using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.Streaming;

/// <summary>
/// The checks kubelet's streaming server makes before it hands out a URL
/// (pkg/kubelet/cri/streaming/server.go validateExecRequest / validateAttachRequest), so a bad
/// request fails in the CRI call instead of in a half-open stream later.
/// </summary>
internal static class StreamingRequestValidator
{
    public static void Validate(ExecRequest request)
    {
        RequireId(request.ContainerId, "container_id");
        if (request.Cmd.Count == 0 || request.Cmd.All(string.IsNullOrEmpty))
        {
            throw new InvalidArgumentException("cmd must not be empty");
        }
        ValidateStreams(request.Tty, request.Stdin, request.Stdout, request.Stderr);
    }

    public static void Validate(AttachRequest request)
    {
        RequireId(request.ContainerId, "container_id");
        ValidateStreams(request.Tty, request.Stdin, request.Stdout, request.Stderr);
    }

    public static void Validate(PortForwardRequest request)
    {
        RequireId(request.PodSandboxId, "pod_sandbox_id");
        foreach (var port in request.Port)
        {
            if (port is < 1 or > ushort.MaxValue)
            {
                throw new InvalidArgumentException($"port {port} is out of range 1-65535");
            }
        }
    }

    private static void RequireId(string id, string field)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new InvalidArgumentException($"missing required {field}");
        }
    }

    private static void ValidateStreams(bool tty, bool stdin, bool stdout, bool stderr)
    {
        if (tty && stderr)
        {
            // A terminal merges stderr into stdout; kubelet refuses the combination.
            throw new InvalidArgumentException("tty and stderr cannot both be true");
        }
        if (!stdin && !stdout && !stderr)
        {
            throw new InvalidArgumentException("one of stdin, stdout, or stderr must be set");
        }
    }
}
