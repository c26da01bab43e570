using System.Diagnostics;
using System.Text;

namespace CriOci.Bench;

/// <summary>One runtime's result: its statistics, or why it could not run here.</summary>
public sealed record RuntimeResult(string Runtime, string Path, Statistics? Statistics, string? Error);

public sealed record RuntimeReport(IReadOnlyList<RuntimeResult> Results, int Samples, string Load)
{
    /// <summary>A table with medians and CriOci's ratio to each peer (below 1 is faster).</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine($"OCI runtime: create + start + wait + delete of `true`, {Samples} samples each, interleaved; load average {Load}");
        text.AppendLine("runtime          median ms   p90 ms   min ms   crioci/peer");
        var ours = Results.FirstOrDefault(r => r.Runtime == "crioci-runtime")?.Statistics;
        foreach (var result in Results)
        {
            if (result.Statistics is not { } s)
            {
                text.AppendLine($"{result.Runtime,-16} not measured: {result.Error}");
                continue;
            }
            var ratio = ours is null || result.Runtime == "crioci-runtime" ? "" : (ours.MedianMs / s.MedianMs).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
            text.AppendLine(System.FormattableString.Invariant($"{result.Runtime,-16} {s.MedianMs,9:0.0} {s.P90Ms,8:0.0} {s.MinMs,8:0.0}   {ratio}"));
        }
        return text.ToString();
    }
}

/// <summary>
/// Times `RUNTIME run --bundle B ID` (create, start, wait for exit, delete) of a busybox
/// `true` bundle for crioci-runtime, crun and runc in one run, alternating runtimes sample by
/// sample so that machine noise hits all of them alike.
/// </summary>
public static class RuntimeBenchmark
{
    private static readonly (string Name, string Path)[] Peers = [("crun", "/usr/bin/crun"), ("runc", "/usr/sbin/runc")];

    public static string DefaultCriociRuntime() => Published("crioci-runtime");

    public static string DefaultCriociDaemon() => Published("crioci");

    /// <summary>artifacts/bin/NAME of the repository the benchmark was built in.</summary>
    private static string Published(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "artifacts", "bin", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"artifacts/bin/{name} not found: run ./build.sh first");
    }

    public static async Task<RuntimeReport> RunAsync(string criociRuntime, int samples, CancellationToken cancellationToken)
    {
        var work = Path.Combine(Path.GetTempPath(), "crioci-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var bundle = BenchBundle.Create(work);
            var runtimes = new List<(string Name, string Path)> { ("crioci-runtime", criociRuntime) };
            runtimes.AddRange(Peers.Where(p => File.Exists(p.Path)));
            var times = runtimes.ToDictionary(r => r.Name, _ => new List<TimeSpan>());
            var errors = new Dictionary<string, string>();
            foreach (var (name, path) in runtimes)
            {
                // One warm-up run each; a runtime that cannot run here is reported, not hidden.
                var warmUp = await RunOnceAsync(path, work, bundle, $"warm-{name}", cancellationToken);
                if (warmUp.Error is not null)
                {
                    errors[name] = warmUp.Error;
                }
            }
            for (var i = 0; i < samples; i++)
            {
                foreach (var (name, path) in runtimes.Where(r => !errors.ContainsKey(r.Name)))
                {
                    var result = await RunOnceAsync(path, work, bundle, $"{name}-{i}", cancellationToken);
                    if (result.Error is not null)
                    {
                        errors[name] = result.Error;
                        continue;
                    }
                    times[name].Add(result.Elapsed);
                }
            }
            var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
            return new RuntimeReport(
                runtimes.Select(r => errors.TryGetValue(r.Name, out var error)
                    ? new RuntimeResult(r.Name, r.Path, null, error)
                    : new RuntimeResult(r.Name, r.Path, Statistics.Of(times[r.Name]), null)).ToList(),
                samples, load);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(TimeSpan Elapsed, string? Error)> RunOnceAsync(string runtime, string work, string bundle, string id, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(runtime)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--root", Path.Combine(work, "state-" + Path.GetFileName(runtime)), "run", "--bundle", bundle, id })
        {
            start.ArgumentList.Add(argument);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        clock.Stop();
        return process.ExitCode == 0 ? (clock.Elapsed, null) : (clock.Elapsed, $"exit {process.ExitCode}: {(await stderr).Trim()}");
    }
}
