namespace CriOci.PodSandbox.Events;

/// <summary>
/// Tells the daemon when a container's monitor records an exit, so a stopped event goes out
/// without anyone polling. The monitor writes exit.json atomically (a rename into place), which
/// inotify reports as a rename in the container's state directory. When the kernel's event
/// queue overflows, individual exits may be missed: <paramref name="onOverflow"/> then lets the
/// owner look at every container itself.
/// </summary>
public sealed class ContainerExitWatcher : IDisposable
{
    private const string ExitFileName = "exit.json";
    private readonly FileSystemWatcher _watcher;

    public ContainerExitWatcher(string runtimeStateRoot, Action<string> onExit, Action onOverflow)
    {
        Directory.CreateDirectory(runtimeStateRoot);
        _watcher = new FileSystemWatcher(runtimeStateRoot)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Renamed += (_, change) => Report(change.FullPath, onExit);
        _watcher.Created += (_, change) => Report(change.FullPath, onExit);
        _watcher.Error += (_, _) => onOverflow();
        _watcher.EnableRaisingEvents = true;
    }

    private static void Report(string path, Action<string> onExit)
    {
        if (Path.GetFileName(path) == ExitFileName && Path.GetFileName(Path.GetDirectoryName(path)) is { Length: > 0 } id)
        {
            onExit(id);
        }
    }

    public void Dispose() => _watcher.Dispose();
}
