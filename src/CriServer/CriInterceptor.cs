using System.Diagnostics;
using CriOci.Core;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>
/// Everything every CRI call needs, written once (containerd
/// internal/cri/instrument/instrumented_service.go): a span, the duration histogram, start and
/// failure logs with the pod and container IDs in scope, and the only mapping from domain
/// exceptions to gRPC status codes. Handlers throw CriOci.Core exceptions and nothing else.
/// </summary>
internal sealed class CriInterceptor : Interceptor
{
    private readonly CriMetrics metrics;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;

    public CriInterceptor(CriMetrics metrics, TimeProvider timeProvider, ILogger<CriInterceptor> logger)
    {
        this.metrics = metrics;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(request, context);
        try
        {
            var response = await continuation(request, context);
            call.Succeeded();
            return response;
        }
        catch (Exception ex)
        {
            throw call.Failed(ex);
        }
        finally
        {
            call.Dispose();
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(request, context);
        try
        {
            await continuation(request, responseStream, context);
            call.Succeeded();
        }
        catch (Exception ex)
        {
            throw call.Failed(ex);
        }
        finally
        {
            call.Dispose();
        }
    }

    private CallScope Begin(object request, ServerCallContext context)
    {
        var (service, method) = SplitMethod(context.Method);
        var ids = CriRequestIds.Of(request);
        var logScope = ids.IsEmpty ? null : logger.BeginScope(ids.ToScope());
        var activity = StartActivity(service, method, context.RequestHeaders);
        activity?.SetTag("crioci.pod_sandbox_id", ids.PodSandboxId);
        activity?.SetTag("crioci.container_id", ids.ContainerId);
        logger.RpcStarted(method);
        return new CallScope(this, context, service, method, activity, logScope, timeProvider.GetTimestamp());
    }

    /// <summary>
    /// The call's span. Its parent is the caller's W3C trace context from the gRPC metadata
    /// ("traceparent", "tracestate"; kubelet sends them when its tracing is on), else none: the
    /// ASP.NET Core request activity that may be current is never exported, and a span whose
    /// parent no backend has would show up as a broken trace.
    /// </summary>
    internal static Activity? StartActivity(string service, string method, Metadata? headers)
    {
        if (!CriMetrics.ActivitySource.HasListeners())
        {
            return null;
        }
        var traceParent = headers?.GetValue("traceparent");
        ActivityContext.TryParse(traceParent, headers?.GetValue("tracestate"), isRemote: true, out var parent);
        Activity.Current = null;
        var activity = CriMetrics.ActivitySource.StartActivity($"{service}/{method}", ActivityKind.Server, parent);
        activity?.SetTag("rpc.system", "grpc");
        activity?.SetTag("rpc.service", service);
        activity?.SetTag("rpc.method", method);
        return activity;
    }

    /// <summary>"/runtime.v1.RuntimeService/Version" into ("runtime.v1.RuntimeService", "Version").</summary>
    internal static (string Service, string Method) SplitMethod(string fullMethod)
    {
        var slash = fullMethod.LastIndexOf('/');
        return slash <= 0 ? ("", fullMethod.TrimStart('/')) : (fullMethod[1..slash], fullMethod[(slash + 1)..]);
    }

    /// <summary>
    /// gRPC carries the status message in an HTTP/2 trailer, and clients cap a header block
    /// (.NET's at 64 KiB): a message repeating a huge request value (a 1 MiB image reference)
    /// made the client drop the connection, failing every other call on it. Enough of a message
    /// to name the field is kept; percent-encoding grows a character to 9 bytes at most.
    /// </summary>
    internal const int MaxStatusMessageLength = 2048;

    /// <summary>
    /// The status a failure maps to. RpcException passes through untouched: it comes from the
    /// generated base classes (Unimplemented) or from gRPC itself.
    /// </summary>
    internal static Status ToStatus(Exception exception, ServerCallContext context, DateTime utcNow) => exception switch
    {
        RpcException rpc => rpc.Status,
        NotFoundException => new Status(StatusCode.NotFound, Bounded(exception.Message)),
        AlreadyExistsException => new Status(StatusCode.AlreadyExists, Bounded(exception.Message)),
        InvalidArgumentException => new Status(StatusCode.InvalidArgument, Bounded(exception.Message)),
        FailedPreconditionException => new Status(StatusCode.FailedPrecondition, Bounded(exception.Message)),
        UnavailableException => new Status(StatusCode.Unavailable, Bounded(exception.Message)),
        ResourceExhaustedException => new Status(StatusCode.ResourceExhausted, Bounded(exception.Message)),
        DeadlineExceededException => new Status(StatusCode.DeadlineExceeded, Bounded(exception.Message)),
        UnimplementedException => new Status(StatusCode.Unimplemented, Bounded(exception.Message)),
        // The call's token fires both when the client goes away and when its deadline passes;
        // report the deadline as such so kubelet's retry logic sees what happened.
        OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
            context.Deadline <= utcNow
                ? new Status(StatusCode.DeadlineExceeded, "deadline exceeded")
                : new Status(StatusCode.Cancelled, "call cancelled"),
        _ => new Status(StatusCode.Internal, Bounded(exception.Message)),
    };

    private static string Bounded(string message) =>
        message.Length <= MaxStatusMessageLength ? message : $"{message[..MaxStatusMessageLength]}... (message cut at {MaxStatusMessageLength} of {message.Length} characters)";

    private sealed class CallScope(
        CriInterceptor owner, ServerCallContext context, string service, string method,
        Activity? activity, IDisposable? logScope, long startTimestamp) : IDisposable
    {
        public void Succeeded()
        {
            var elapsed = owner.timeProvider.GetElapsedTime(startTimestamp);
            owner.metrics.RecordRequest(service, method, StatusCode.OK, elapsed);
            if (method == nameof(CriRuntimeService.StartContainer))
            {
                owner.metrics.RecordContainerStart(elapsed);
            }
            owner.logger.RpcFinished(method, elapsed.TotalMilliseconds);
        }

        /// <summary>Records the failure and returns the RpcException to throw in its place.</summary>
        public RpcException Failed(Exception exception)
        {
            var status = ToStatus(exception, context, owner.timeProvider.GetUtcNow().UtcDateTime);
            owner.metrics.RecordRequest(service, method, status.StatusCode, owner.timeProvider.GetElapsedTime(startTimestamp));
            activity?.SetStatus(ActivityStatusCode.Error, status.Detail);
            activity?.SetTag("rpc.grpc.status_code", (int)status.StatusCode);
            switch (status.StatusCode)
            {
                case StatusCode.Internal when exception is not RpcException:
                    owner.logger.RpcFailedUnexpectedly(method, exception);
                    break;
                case StatusCode.Cancelled:
                    owner.logger.RpcCancelled(method);
                    break;
                default:
                    owner.logger.RpcFailed(method, status.StatusCode, status.Detail);
                    break;
            }
            return exception as RpcException ?? new RpcException(status);
        }

        public void Dispose()
        {
            activity?.Dispose();
            logScope?.Dispose();
        }
    }
}
