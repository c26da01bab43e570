using CriOci.PodSandbox.Namespaces;
using CriOci.PodSandbox.Tests.Fakes;

namespace CriOci.PodSandbox.Tests.Namespaces;

public sealed class NamespacePinnerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "crioci-pinner-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Unpin_DirectoryAlreadyRemoved_Succeeds()
    {
        // A daemon killed during RemovePodSandbox after deleting the pod's state directory:
        // the retried remove unpins again.
        var log = new CallLog();
        var pinner = new NamespacePinner(new FakeMounter(log));

        pinner.Unpin(Path.Combine(_directory, "pods", "gone", "ns"));

        Assert.Empty(log.Calls);
    }

    [Fact]
    public void Unpin_PinFilesPresent_UnmountsAndDeletesEach()
    {
        var ns = Path.Combine(_directory, "ns");
        Directory.CreateDirectory(ns);
        foreach (var name in new[] { "net", "ipc", "uts", "user" })
        {
            File.WriteAllBytes(Path.Combine(ns, name), []);
        }
        var log = new CallLog();

        new NamespacePinner(new FakeMounter(log)).Unpin(ns);

        Assert.Equal([$"Unmount {ns}/net", $"Unmount {ns}/ipc", $"Unmount {ns}/uts", $"Unmount {ns}/user"], log.Calls);
        Assert.Empty(Directory.GetFiles(ns));
    }
}
