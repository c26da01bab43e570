using CriOci.Core;

namespace CriOci.OciRuntime.State;

/// <summary>
/// The runtime's per-container directory under its root (like runc's --root): state.json,
/// exit.json, the exec fifo and the monitor's attach socket. Lives on tmpfs: a reboot forgets every container, as it should.
/// </summary>
public sealed class StateDirectory(string root, string id)
{
    public string Root { get; } = root;
    public string Id { get; } = id;
    public string Path => System.IO.Path.Combine(Root, Id);
    public string StateFile => System.IO.Path.Combine(Path, "state.json");
    public string ExitFile => System.IO.Path.Combine(Path, "exit.json");
    public string ExecFifo => System.IO.Path.Combine(Path, "exec.fifo");

    /// <summary>The monitor's attach socket (mode 0600; protocol in <see cref="Monitor.AttachProtocol"/>).</summary>
    public string AttachSocketPath => System.IO.Path.Combine(Path, "attach.sock");

    public bool Exists => File.Exists(StateFile);

    public ContainerStateFile? ReadState() => Read(StateFile, json => StateJson.ReadState(json));

    public ContainerExitFile? ReadExit() => Read(ExitFile, json => StateJson.ReadExit(json));

    public void WriteState(ContainerStateFile state) => AtomicFile.ReplaceVolatile(StateFile, StateJson.Write(state));

    /// <summary>An exit recorded by the runtime itself (its monitor lost): the same bytes the monitor writes.</summary>
    public void WriteExit(ContainerExitFile exit) => AtomicFile.ReplaceVolatile(ExitFile, Monitor.ExitRecord.Serialize(exit));

    private static T? Read<T>(string path, Func<byte[], T?> parse) where T : class
    {
        // A missing file is the common answer (exit.json until the container has exited):
        // asked first, it costs a stat instead of a thrown exception.
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return parse(File.ReadAllBytes(path));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
