using CriOci.Cri.V1;
using Google.Protobuf;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// Runs a registered exec or attach against the runtime once the protocol has set up the
/// streams, and turns the outcome into the Status kubelet would report.
/// </summary>
internal static class RemoteCommandRunner
{
    public static async Task<KubeStatus> RunAsync(StreamingServer server, IMessage request, StreamingIo io, CancellationToken cancellationToken)
    {
        switch (request)
        {
            case ExecRequest exec:
                try
                {
                    var exitCode = await server.Runtime.ExecAsync(exec.ContainerId, exec.Cmd, io, cancellationToken);
                    return exitCode == 0 ? KubeStatus.Succeeded() : KubeStatus.NonZeroExit(exec.Cmd, exitCode);
                }
                catch (Exception e)
                {
                    // Whatever the runtime throws is the client's answer (kubelet: NewInternalError), not a server fault.
                    Log.SessionFailed(server.Logger, "exec", exec.ContainerId, e.Message);
                    return KubeStatus.InternalError($"error executing command in container: {e.Message}");
                }
            case AttachRequest attach:
                try
                {
                    await server.Runtime.AttachAsync(attach.ContainerId, io, cancellationToken);
                    return KubeStatus.Succeeded();
                }
                catch (Exception e)
                {
                    Log.SessionFailed(server.Logger, "attach", attach.ContainerId, e.Message);
                    return KubeStatus.InternalError($"error attaching to container: {e.Message}");
                }
            default:
                throw new ArgumentException($"not a remote command: {request.Descriptor.Name}", nameof(request));
        }
    }

    /// <summary>Which streams the registered request asked for.</summary>
    public static RequestedStreams StreamsOf(IMessage request) => request switch
    {
        ExecRequest exec => new RequestedStreams(exec.Stdin, exec.Stdout, exec.Stderr, exec.Tty),
        AttachRequest attach => new RequestedStreams(attach.Stdin, attach.Stdout, attach.Stderr, attach.Tty),
        _ => throw new ArgumentException($"not a remote command: {request.Descriptor.Name}", nameof(request)),
    };

    public static string TargetOf(IMessage request) => request switch
    {
        ExecRequest exec => exec.ContainerId,
        AttachRequest attach => attach.ContainerId,
        PortForwardRequest portForward => portForward.PodSandboxId,
        _ => "?",
    };
}

/// <summary>The streams a session uses; with a tty there is no stderr (it is merged into stdout).</summary>
internal readonly record struct RequestedStreams(bool Stdin, bool Stdout, bool Stderr, bool Tty);
