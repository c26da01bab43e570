using System.Globalization;
using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Cli;

/// <summary>`create [--bundle DIR] [--pid-file FILE] ID`: the container's init inherits our stdio and outlives us.</summary>
internal static class CreateCommand
{
    public static int Run(string root, CliArguments args, string self)
    {
        var id = args.Required(0, "container ID");
        var bundle = args.Flag("bundle", "b") ?? Directory.GetCurrentDirectory();
        if (args.Flag("console-socket") is not null)
        {
            throw new CliException("--console-socket (terminal containers) is not supported yet");
        }
        var state = ContainerLauncher.Create(root, id, bundle, new InitStdio(0, 1, 2), self);
        if (args.Flag("pid-file") is { } pidFile)
        {
            Core.AtomicFile.WriteAllText(Path.GetFullPath(pidFile), state.InitPid.ToString(CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
