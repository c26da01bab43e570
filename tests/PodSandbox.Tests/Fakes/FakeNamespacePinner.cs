using CriOci.PodSandbox.Namespaces;

namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>Pins nothing; records "Pin DIR" / "Unpin DIR" and the requests, and can be told to fail.</summary>
internal sealed class FakeNamespacePinner(CallLog log) : INamespacePinner
{
    public List<PodNamespaceRequest> Requests { get; } = [];

    public Exception? PinFailure { get; set; }

    /// <summary>Called with the pin directory before pinning: lets a test look at the disk at that moment.</summary>
    public Action<string>? OnPin { get; set; }

    public PinnedNamespaces Pin(string directory, PodNamespaceRequest request)
    {
        log.Add($"Pin {directory}");
        OnPin?.Invoke(directory);
        Requests.Add(request);
        if (PinFailure is { } failure)
        {
            throw failure;
        }
        return new PinnedNamespaces(
            request.Network ? Path.Combine(directory, "net") : null,
            request.Ipc ? Path.Combine(directory, "ipc") : null,
            request.Uts ? Path.Combine(directory, "uts") : null,
            request.UserNamespace is not null ? Path.Combine(directory, "user") : null);
    }

    public void Unpin(string directory) => log.Add($"Unpin {directory}");
}
