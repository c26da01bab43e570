using System.Globalization;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Cli;

/// <summary>`run [--bundle DIR] [--detach] [--pid-file FILE] [--console-socket PATH] ID`: create, start and (unless detached) wait, then delete.</summary>
internal static class RunCommand
{
    public static int Run(ContainerRuntime runtime, string root, CliArguments args, string self)
    {
        var id = args.Required(0, "container ID");
        var bundle = args.Flag("bundle", "b") ?? Directory.GetCurrentDirectory();
        var detach = args.Switch("detach", "d");
        var consoleSocketPath = args.Flag("console-socket");
        var spec = ContainerLauncher.LoadSpec(Path.GetFullPath(bundle));
        var terminal = spec.Process?.Terminal == true;
        ConsoleSocketOption.Check(terminal, detach, consoleSocketPath);
        using var foreground = terminal && !detach ? ForegroundTerminal.Open() : null;
        var consoleSocket = foreground?.ConsoleSocket ?? ConsoleSocketOption.Connect(consoleSocketPath);
        State.ContainerStateFile state;
        try
        {
            state = ContainerLauncher.Create(root, id, bundle, spec, new InitStdio(0, 1, 2, consoleSocket), self);
        }
        finally
        {
            if (foreground is not null)
            {
                foreground.CloseChildEnd();
            }
            else if (consoleSocket >= 0)
            {
                LibC.close(consoleSocket);
            }
        }
        if (args.Flag("pid-file") is { } pidFile)
        {
            Core.AtomicFile.WriteAllText(Path.GetFullPath(pidFile), state.InitPid.ToString(CultureInfo.InvariantCulture));
        }
        runtime.Start(id, CancellationToken.None);
        if (detach)
        {
            return 0;
        }
        foreground?.Relay();
        // The init is our child: its exit status is ours to collect and pass on.
        LibC.waitpid(state.InitPid, out var status, 0);
        var exitCode = LibC.ExitCodeFromWaitStatus(status, out _);
        runtime.DeleteAsync(id, CancellationToken.None).GetAwaiter().GetResult();
        return exitCode;
    }
}
