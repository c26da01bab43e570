namespace CriOci.Bench.Cri;

/// <summary>The "1 2 3" load averages of /proc/loadavg.</summary>
public static class LoadAverage
{
    public static string Read() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
