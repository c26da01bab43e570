using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// A response body that releases its HTTP response (and connection) when disposed. A read that
/// gets no byte within <paramref name="readTimeout"/> (a registry that stalls mid-blob) and a
/// dropped connection fail as transient <see cref="UnavailableException"/>s naming
/// <paramref name="what"/>, so the pull retries or reports the registry instead of hanging.
/// </summary>
internal sealed class ResponseStream(HttpResponseMessage response, Stream body, string what, TimeSpan readTimeout) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return body.Read(buffer);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw Dropped(e);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(readTimeout);
        try
        {
            return await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw RegistryRetry.MarkTransient(new UnavailableException(
                $"{what}: no data received for {readTimeout.TotalSeconds:0.###} s", e));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw Dropped(e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private UnavailableException Dropped(Exception e) =>
        RegistryRetry.MarkTransient(new UnavailableException($"{what}: the download broke off: {e.Message}", e));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            response.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// Bounds on waiting for a registry.
/// </summary>
/// <param name="Request">From sending a request to its response headers (for a manifest: to its last byte).</param>
/// <param name="Read">Longest silence inside a blob download.</param>
internal sealed record RegistryTimeouts(TimeSpan Request, TimeSpan Read);
