using Grpc.Core;

namespace CriOci.CriServer.Tests.Fakes;

/// <summary>Just enough of a call for CriInterceptor.ToStatus: a token and a deadline.</summary>
internal sealed class FakeServerCallContext(CancellationToken cancellationToken, DateTime deadline) : ServerCallContext
{
    protected override string MethodCore => "/runtime.v1.RuntimeService/Version";
    protected override string HostCore => "localhost";
    protected override string PeerCore => "unix:";
    protected override DateTime DeadlineCore => deadline;
    protected override Metadata RequestHeadersCore { get; } = [];
    protected override CancellationToken CancellationTokenCore => cancellationToken;
    protected override Metadata ResponseTrailersCore { get; } = [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
