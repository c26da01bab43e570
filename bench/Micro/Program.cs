using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Micro -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(CriOci.Bench.Micro.SpecGenerationBenchmarks).Assembly).Run(args);
