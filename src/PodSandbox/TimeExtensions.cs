namespace CriOci.PodSandbox;

internal static class TimeExtensions
{
    /// <summary>CRI timestamps are nanoseconds since the Unix epoch.</summary>
    public static long ToUnixTimeNanoseconds(this DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
