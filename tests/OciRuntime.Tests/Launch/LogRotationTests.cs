using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// kubelet's log rotation against a real container: rename the file, ReopenContainerLog,
/// repeat, while the container writes a numbered line every millisecond. Every number must be
/// in exactly one of the files, in order.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class LogRotationTests : IAsyncLifetime
{
    private readonly BusyboxBundle _bundle = new();
    private readonly ContainerRuntime _runtime;
    private readonly string _id = "rotate-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _logPath;

    public LogRotationTests()
    {
        _runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), _bundle.StateRoot));
        _logPath = Path.Combine(_bundle.Directory, "logs", "c", "0.log");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _runtime.DeleteAsync(_id, CancellationToken.None);
        _runtime.Dispose();
        _bundle.Dispose();
    }

    [Fact]
    public async Task ReopenLog_AfterEachRename_LosesAndDuplicatesNoLine()
    {
        _bundle.WriteConfig("sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); [ $((i % 100)) -eq 0 ] && sleep 0.01; done");
        await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        var rotated = new List<string>();
        for (var rotation = 0; rotation < 5 && _runtime.GetState(_id)?.Status != OciRuntime.State.ContainerStatus.Stopped; rotation++)
        {
            await Task.Delay(30);
            var old = $"{_logPath}.{rotation}";
            File.Move(_logPath, old);
            rotated.Add(old);
            try
            {
                await _runtime.ReopenLogAsync(_id, _logPath, CancellationToken.None);
            }
            catch (Core.FailedPreconditionException)
            {
                break; // the container finished while we rotated
            }
        }
        Assert.True(await _runtime.WaitForExitAsync(_id, TimeSpan.FromSeconds(60), CancellationToken.None));
        await Task.Delay(200); // the monitor flushes before it records the exit

        var numbers = rotated.Append(_logPath).Where(File.Exists)
            .SelectMany(File.ReadLines)
            .Select(line => line.Split(' ', 4)[3])
            .Select(message => int.Parse(message["line-".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(rotated.Count >= 1, "no rotation happened while the container ran");
        Assert.Equal(Enumerable.Range(0, 3000), numbers);
    }
}
