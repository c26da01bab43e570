using Microsoft.Win32.SafeHandles;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// Collects an ExecSync command's stdout and stderr from the pipes it writes, for the embedded
/// exec and for external runtimes alike.
/// </summary>
internal static class ExecOutput
{
    /// <summary>CRI implementations cap ExecSync output; kubelet itself keeps far less for probes.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>An unbuffered stream over the read end of a pipe (owned from now on).</summary>
    public static FileStream ReadStream(int fd) =>
        new(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);

    /// <summary>
    /// Reads to the end on its own thread, keeping the first <see cref="MaxBytes"/> and draining
    /// the rest, so a chatty command never blocks on a full pipe.
    /// </summary>
    public static Task<byte[]> ReadCappedAsync(Stream stream) => Task.Factory.StartNew(() =>
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length < MaxBytes)
            {
                buffer.Write(chunk, 0, (int)Math.Min(read, MaxBytes - buffer.Length));
            }
        }
        return buffer.ToArray();
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
