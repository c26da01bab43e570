namespace CriOci.Bench.Cri;

/// <summary>Median, p90 and p99 (nearest rank) of one measure's samples, in its own unit.</summary>
public sealed record Summary(int Count, double Median, double P90, double P99)
{
    public static Summary Of(IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double quantile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
        return sorted.Length == 0
            ? new Summary(0, double.NaN, double.NaN, double.NaN)
            : new Summary(sorted.Length, At(0.5), At(0.9), At(0.99));
    }
}
