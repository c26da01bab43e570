using CriOci.Cri.V1;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// One daemon shared by every row of the bad-request table (a daemon per row would make the
/// table take minutes). The image the CreateContainer rows name is pulled once, on first use:
/// a class fixture cannot take the registry collection fixture, the test class can.
/// </summary>
public sealed class BadRequestDaemon : IAsyncLifetime
{
    private readonly SemaphoreSlim _pullLock = new(1, 1);
    private string? _pulledImage;

    public DaemonProcess Daemon { get; private set; } = null!;

    public async Task InitializeAsync() => Daemon = await DaemonProcess.StartAsync();

    public async Task EnsurePulledAsync(string reference)
    {
        await _pullLock.WaitAsync();
        try
        {
            if (_pulledImage != reference)
            {
                await Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
                _pulledImage = reference;
            }
        }
        finally
        {
            _pullLock.Release();
        }
    }

    public async Task DisposeAsync()
    {
        await Daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(Daemon.BaseDirectory);
        _pullLock.Dispose();
    }
}
