using System.Text;
using BenchmarkDotNet.Attributes;
using CriOci.OciRuntime.Monitor;

namespace CriOci.Bench.Micro;

/// <summary>
/// The monitor's log path: 4 MiB of container output in 100-byte lines split into CRI records,
/// into Stream.Null (formatting alone) and into a real log file (one write per record, as the
/// monitor does).
/// </summary>
[MemoryDiagnoser]
public class CriLogWriterBenchmarks
{
    private byte[] _output = null!;
    private string _work = null!;
    private CriLogWriter _toNull = null!;
    private CriLogWriter _toFile = null!;

    [GlobalSetup]
    public void SetUp()
    {
        var line = new string('x', 99) + "\n";
        _output = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, 4 * 1024 * 1024 / line.Length)));
        _work = Directory.CreateTempSubdirectory("crioci-bench-log-").FullName;
        _toNull = new CriLogWriter(Stream.Null);
        _toFile = CriLogWriter.Open(Path.Combine(_work, "container.log"));
    }

    [Benchmark]
    public void ToNull() => Write(_toNull);

    [Benchmark]
    public void ToFile() => Write(_toFile);

    private void Write(CriLogWriter writer)
    {
        var stream = new CriLogStream(writer, "stdout");
        stream.Append(_output);
        stream.Flush();
    }

    /// <summary>Each iteration starts from an empty log, so the file stays small.</summary>
    [IterationCleanup]
    public void Truncate() => File.WriteAllBytes(Path.Combine(_work, "container.log"), []);

    [GlobalCleanup]
    public void CleanUp()
    {
        _toNull.Dispose();
        _toFile.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
