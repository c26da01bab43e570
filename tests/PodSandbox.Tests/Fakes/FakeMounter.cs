namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>Mounts nothing; records each call and can be told to fail one kind.</summary>
internal sealed class FakeMounter(CallLog log) : IMounter
{
    public Exception? TmpfsFailure { get; set; }

    public Exception? OverlayFailure { get; set; }

    public void Bind(string source, string target, bool readOnly) => log.Add($"Bind {source} {target} {(readOnly ? "ro" : "rw")}");

    public void MountTmpfs(string target, string options)
    {
        log.Add($"MountTmpfs {target} {options}");
        if (TmpfsFailure is { } failure)
        {
            throw failure;
        }
    }

    public void MountOverlay(IReadOnlyList<string> lowerDirectories, string upperDirectory, string workDirectory, string target)
    {
        log.Add($"MountOverlay {target}");
        if (OverlayFailure is { } failure)
        {
            throw failure;
        }
    }

    public void MountReadOnlyOverlay(IReadOnlyList<string> lowerDirectories, string target) => log.Add($"MountReadOnlyOverlay {target}");

    public void BindIdmapped(string source, string target, string userNamespacePath) => log.Add($"BindIdmapped {source} {target} {userNamespacePath}");

    public void Unmount(string target) => log.Add($"Unmount {target}");
}
