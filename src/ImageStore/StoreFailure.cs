using CriOci.Core;
using CriOci.ImageStore.Unpack.Interop;

namespace CriOci.ImageStore;

/// <summary>
/// Turns a file system failure during a pull, import or unpack into the error its caller can
/// act on. kubelet treats every PullImage error as ErrImagePull and backs off, so the status
/// code matters to people and tools reading it: ResourceExhausted says "free space and the
/// same pull succeeds", InvalidArgument says "this image cannot be stored here, retrying is
/// pointless", Unavailable is everything else that the node's surroundings did.
/// </summary>
internal static class StoreFailure
{
    private const int E2BIG = 7;
    private const int EINVAL = 22;
    private const int ENOSPC = 28;
    private const int ERANGE = 34;
    private const int ENAMETOOLONG = 36;
    private const int EDQUOT = 122;

    /// <param name="what">What was being done, naming the image ("unpacking layer sha256:... of busybox:1").</param>
    public static CriOciException Classify(Exception exception, string what)
    {
        var errno = Errno(exception);
        if (errno is ENOSPC or EDQUOT)
        {
            return new ResourceExhaustedException(
                $"{what} failed: the image filesystem is full ({exception.Message}); nothing of the image was kept, free space and pull again", exception);
        }
        if (exception is PathTooLongException || errno == ENAMETOOLONG)
        {
            return new InvalidArgumentException($"{what} failed: the image holds a name longer than this filesystem allows ({exception.Message})");
        }
        if (exception is SyscallException { Call: var call } && call.StartsWith("lsetxattr", StringComparison.Ordinal) && errno is EINVAL or ERANGE or E2BIG)
        {
            // EINVAL: a malformed name; ERANGE: a name over 255 bytes; E2BIG: a value over 64 KiB.
            return new InvalidArgumentException($"{what} failed: the image holds an extended attribute this filesystem refuses ({exception.Message})");
        }
        return new UnavailableException($"{what} failed: {exception.Message}", exception);
    }

    /// <summary>
    /// The errno behind the exception: the unpacker's own wrappers carry it, and .NET gives a
    /// plain IOException from a failed read, write or open the raw errno as its HResult.
    /// </summary>
    private static int Errno(Exception exception) => exception switch
    {
        SyscallException syscall => syscall.Errno,
        IOException io when io.GetType() == typeof(IOException) => io.HResult,
        _ => 0,
    };
}
