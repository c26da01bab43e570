using System.Globalization;
using System.Text.Json;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// `update [--resources FILE|-] [--memory N] [--memory-swap N] [--cpu-shares N] [--cpu-quota N]
/// [--cpu-period N] [--cpu-rt-period N] [--cpu-rt-runtime N] [--cpuset-cpus S] [--cpuset-mems S] [--pids-limit N] ID`: new cgroup limits for
/// a running container (containerd passes linux.resources JSON on stdin).
/// </summary>
internal static class UpdateCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args)
    {
        var id = args.Required(0, "container ID");
        ResourcesSpec resources;
        if (args.Flag("resources", "r") is { } source)
        {
            using var input = source == "-" ? Console.OpenStandardInput() : File.OpenRead(source);
            resources = JsonSerializer.Deserialize(input, OciJsonContext.Default.ResourcesSpec) ?? new ResourcesSpec();
        }
        else
        {
            resources = new ResourcesSpec
            {
                Memory = args.Flag("memory") is null && args.Flag("memory-swap") is null ? null
                    : new MemorySpec { Limit = Long(args.Flag("memory")), Swap = Long(args.Flag("memory-swap")) },
                Cpu = new CpuSpec
                {
                    Shares = (ulong?)Long(args.Flag("cpu-shares")),
                    Quota = Long(args.Flag("cpu-quota")),
                    Period = (ulong?)Long(args.Flag("cpu-period")),
                    RealtimePeriod = (ulong?)Long(args.Flag("cpu-rt-period")),
                    RealtimeRuntime = Long(args.Flag("cpu-rt-runtime")),
                    Cpus = args.Flag("cpuset-cpus"),
                    Mems = args.Flag("cpuset-mems"),
                },
                Pids = Long(args.Flag("pids-limit")) is { } pids ? new PidsSpec { Limit = pids } : null,
            };
        }
        runtime.Cgroup(id).Update(resources);
        return 0;
    }

    private static long? Long(string? value) => value is null ? null : long.Parse(value, CultureInfo.InvariantCulture);
}
