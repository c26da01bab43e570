using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// dotnet run -c Release --project bench/Micro -- --filter '*'
// In process: the default toolchain generates and builds a project per benchmark, which needs the
// assembly named after its project file, and takes minutes on a small machine for no gain here.
var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: false)).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(CriOci.Bench.Micro.SpecGenerationBenchmarks).Assembly).Run(args, config);
