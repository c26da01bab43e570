using System.Globalization;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// `create [--bundle DIR] [--pid-file FILE] [--console-socket PATH] ID`: the container's init
/// inherits our stdio (or, with process.terminal, sends its pty master to the console socket)
/// and outlives us.
/// </summary>
internal static class CreateCommand
{
    public static int Run(string root, CliArguments args, string self)
    {
        var id = args.Required(0, "container ID");
        var bundle = args.Flag("bundle", "b") ?? Directory.GetCurrentDirectory();
        var consoleSocketPath = args.Flag("console-socket");
        var spec = ContainerLauncher.LoadSpec(Path.GetFullPath(bundle));
        ConsoleSocketOption.Check(spec.Process?.Terminal == true, detach: true, consoleSocketPath);
        var consoleSocket = ConsoleSocketOption.Connect(consoleSocketPath);
        ContainerStateFile state;
        try
        {
            state = ContainerLauncher.Create(root, id, bundle, spec, new InitStdio(0, 1, 2, consoleSocket), self);
        }
        finally
        {
            if (consoleSocket >= 0)
            {
                Linux.Interop.LibC.close(consoleSocket);
            }
        }
        if (args.Flag("pid-file") is { } pidFile)
        {
            Core.AtomicFile.WriteAllText(Path.GetFullPath(pidFile), state.InitPid.ToString(CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
