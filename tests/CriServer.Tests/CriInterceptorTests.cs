using System.Diagnostics.Metrics;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.CriServer.Tests.Fakes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CriOci.CriServer.Tests;

public sealed class CriInterceptorTests : IAsyncLifetime
{
    private static readonly DateTime Now = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private CriTestServer server = null!;

    public async Task InitializeAsync() => server = await CriTestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    public static TheoryData<Exception, StatusCode> DomainErrors => new()
    {
        { new NotFoundException("x"), StatusCode.NotFound },
        { new AlreadyExistsException("x"), StatusCode.AlreadyExists },
        { new InvalidArgumentException("x"), StatusCode.InvalidArgument },
        { new FailedPreconditionException("x"), StatusCode.FailedPrecondition },
        { new UnavailableException("x"), StatusCode.Unavailable },
        { new DeadlineExceededException("x"), StatusCode.DeadlineExceeded },
        { new UnimplementedException("x"), StatusCode.Unimplemented },
        { new InvalidOperationException("x"), StatusCode.Internal },
        { new RpcException(new Status(StatusCode.Unimplemented, "x")), StatusCode.Unimplemented },
    };

    [Theory]
    [MemberData(nameof(DomainErrors))]
    public void ToStatus_Exception_MapsToCodeKeepingMessage(Exception exception, StatusCode expected)
    {
        var status = CriInterceptor.ToStatus(exception, new FakeServerCallContext(CancellationToken.None, DateTime.MaxValue), Now);

        Assert.Equal(expected, status.StatusCode);
        Assert.Equal("x", status.Detail);
    }

    [Fact]
    public void ToStatus_MessageRepeatingAHugeValue_IsCutToFitAHeader()
    {
        var exception = new NotFoundException($"image {new string('a', 1024 * 1024)} not found");

        var status = CriInterceptor.ToStatus(exception, new FakeServerCallContext(CancellationToken.None, DateTime.MaxValue), Now);

        Assert.Equal(StatusCode.NotFound, status.StatusCode);
        Assert.StartsWith("image aaaa", status.Detail);
        Assert.True(status.Detail.Length < CriInterceptor.MaxStatusMessageLength + 100, $"{status.Detail.Length} characters");
        Assert.EndsWith($"(message cut at {CriInterceptor.MaxStatusMessageLength} of {exception.Message.Length} characters)", status.Detail);
    }

    [Fact]
    public void ToStatus_CancelledByCaller_Cancelled()
    {
        var context = new FakeServerCallContext(new CancellationToken(canceled: true), DateTime.MaxValue);

        var status = CriInterceptor.ToStatus(new OperationCanceledException(), context, Now);

        Assert.Equal(StatusCode.Cancelled, status.StatusCode);
    }

    [Fact]
    public void ToStatus_CancelledAfterDeadline_DeadlineExceeded()
    {
        var context = new FakeServerCallContext(new CancellationToken(canceled: true), Now.AddSeconds(-1));

        var status = CriInterceptor.ToStatus(new OperationCanceledException(), context, Now);

        Assert.Equal(StatusCode.DeadlineExceeded, status.StatusCode);
    }

    [Fact]
    public void ToStatus_CancellationNotFromCall_Internal()
    {
        var status = CriInterceptor.ToStatus(new TaskCanceledException("inner timeout"), new FakeServerCallContext(CancellationToken.None, DateTime.MaxValue), Now);

        Assert.Equal(StatusCode.Internal, status.StatusCode);
    }

    [Theory]
    [InlineData("/runtime.v1.RuntimeService/Version", "runtime.v1.RuntimeService", "Version")]
    [InlineData("/runtime.v1.ImageService/PullImage", "runtime.v1.ImageService", "PullImage")]
    public void SplitMethod_FullName_ServiceAndMethod(string fullMethod, string service, string method)
    {
        Assert.Equal((service, method), CriInterceptor.SplitMethod(fullMethod));
    }

    [Fact]
    public async Task UnaryCall_Succeeds_RecordsDurationWithOkStatus()
    {
        using var measurements = new DurationRecorder(server);

        await server.Runtime.VersionAsync(new VersionRequest());

        var measurement = Assert.Single(measurements.Snapshot());
        Assert.Equal("runtime.v1.RuntimeService", measurement.Tags["rpc.service"]);
        Assert.Equal("Version", measurement.Tags["rpc.method"]);
        Assert.Equal((int)StatusCode.OK, measurement.Tags["rpc.grpc.status_code"]);
        Assert.True(measurement.Seconds >= 0);
    }

    [Fact]
    public async Task UnaryCall_Fails_RecordsDurationWithItsStatus()
    {
        using var measurements = new DurationRecorder(server);

        await Assert.ThrowsAsync<RpcException>(() => server.Runtime.StopContainerAsync(new StopContainerRequest()).ResponseAsync);

        var measurement = Assert.Single(measurements.Snapshot());
        Assert.Equal("StopContainer", measurement.Tags["rpc.method"]);
        Assert.Equal((int)StatusCode.InvalidArgument, measurement.Tags["rpc.grpc.status_code"]);
    }

    [Fact]
    public async Task StreamingCall_NotBuilt_RecordsUnimplemented()
    {
        using var measurements = new DurationRecorder(server);
        using var call = server.Runtime.StreamContainers(new StreamContainersRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        var measurement = Assert.Single(measurements.Snapshot());
        Assert.Equal("StreamContainers", measurement.Tags["rpc.method"]);
        Assert.Equal((int)StatusCode.Unimplemented, measurement.Tags["rpc.grpc.status_code"]);
    }

    /// <summary>Listens to this server's duration histogram only (other tests' servers run in parallel).</summary>
    private sealed class DurationRecorder : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly List<(double Seconds, Dictionary<string, object?> Tags)> measurements = [];

        public DurationRecorder(CriTestServer server)
        {
            var meterFactory = server.Services.GetRequiredService<IMeterFactory>();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CriMetrics.Name && instrument.Name == CriMetrics.RequestDurationName
                    && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                var copy = new Dictionary<string, object?>();
                foreach (var tag in tags)
                {
                    copy[tag.Key] = tag.Value;
                }
                lock (measurements)
                {
                    measurements.Add((value, copy));
                }
            });
            listener.Start();
        }

        /// <summary>CriInterceptor records before the response or status is written, so the client has seen it by now.</summary>
        public IReadOnlyList<(double Seconds, Dictionary<string, object?> Tags)> Snapshot()
        {
            lock (measurements)
            {
                return [.. measurements];
            }
        }

        public void Dispose() => listener.Dispose();
    }
}
