using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>
/// A network that hands out <see cref="Ips"/>; records "CNI ADD id" / "CNI DEL dir" in its own
/// log (or the shared one when given), keeps an attachment marker file in the cache directory like
/// the real invoker, and can be told to fail ADD after writing that marker (a half-failed ADD).
/// </summary>
internal sealed class FakeCniInvoker(CallLog log) : ICniInvoker
{
    public List<CniPodRequest> Requests { get; } = [];

    public IReadOnlyList<string> Ips { get; set; } = ["10.87.0.2"];

    public Exception? AddFailure { get; set; }

    public NetworkReadiness Readiness { get; set; } = NetworkReadiness.IsReady;

    public List<string> PodCidrs { get; } = [];

    public Task<CniAttachment> AddAsync(CniPodRequest pod, string cacheDirectory, CancellationToken cancellationToken)
    {
        log.Add($"CNI ADD {pod.PodSandboxId}");
        Requests.Add(pod);
        Directory.CreateDirectory(cacheDirectory);
        File.WriteAllText(Marker(cacheDirectory), pod.PodSandboxId);
        if (AddFailure is { } failure)
        {
            throw failure;
        }
        return Task.FromResult(new CniAttachment(Ips));
    }

    public Task DeleteAsync(string cacheDirectory, CancellationToken cancellationToken)
    {
        if (File.Exists(Marker(cacheDirectory)))
        {
            log.Add($"CNI DEL {File.ReadAllText(Marker(cacheDirectory))}");
            File.Delete(Marker(cacheDirectory));
        }
        return Task.CompletedTask;
    }

    public CniCheckResult CheckResult { get; set; } = new(true, true, "fake network passed CHECK");

    public Task<CniCheckResult> CheckAsync(string cacheDirectory, CancellationToken cancellationToken)
    {
        log.Add($"CNI CHECK {cacheDirectory}");
        return Task.FromResult(File.Exists(Marker(cacheDirectory)) ? CheckResult : CniCheckResult.Skipped("no network attachment"));
    }

    public bool HasAttachment(string cacheDirectory) => File.Exists(Marker(cacheDirectory));

    public Task<NetworkReadiness> StatusAsync(CancellationToken cancellationToken) => Task.FromResult(Readiness);

    public void SetPodCidr(string podCidr) => PodCidrs.Add(podCidr);

    private static string Marker(string cacheDirectory) => Path.Combine(cacheDirectory, "fake-cni");
}
