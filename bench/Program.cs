using CriOci.Bench;

// crioci-bench runtime [--samples N] [--runtime PATH]: create+start+wait+delete of a busybox
// `true` bundle with crioci-runtime, crun and runc, interleaved, medians and ratios.
var samples = 30;
string? runtime = null;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--samples":
            samples = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            break;
        case "--runtime":
            runtime = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}
if (args.Length == 0 || args[0] != "runtime")
{
    Console.Error.WriteLine("usage: crioci-bench runtime [--samples N] [--runtime PATH-TO-crioci-runtime]");
    return 2;
}
var report = await RuntimeBenchmark.RunAsync(runtime ?? RuntimeBenchmark.DefaultCriociRuntime(), samples, CancellationToken.None);
Console.Write(report.ToTable());
return report.Results.Any(r => r.Runtime == "crioci-runtime" && r.Error is null) ? 0 : 1;
