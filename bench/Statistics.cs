namespace CriOci.Bench;

/// <summary>Order statistics of a sample of durations.</summary>
public sealed record Statistics(int Count, double MedianMs, double P90Ms, double P99Ms, double MinMs)
{
    public static Statistics Of(IReadOnlyList<TimeSpan> samples)
    {
        var sorted = samples.Select(s => s.TotalMilliseconds).Order().ToArray();
        double At(double quantile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
        return sorted.Length == 0
            ? new Statistics(0, double.NaN, double.NaN, double.NaN, double.NaN)
            : new Statistics(sorted.Length, At(0.5), At(0.9), At(0.99), sorted[0]);
    }
}
