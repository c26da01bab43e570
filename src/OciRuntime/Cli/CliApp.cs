using CriOci.OciRuntime.Launch;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// The crioci-runtime command line: runc's verbs and global flags, so tools that drive runc
/// can drive it, plus the internal verbs the runtime starts itself (init, exec-init, monitor).
/// </summary>
public static class CliApp
{
    public const string DefaultRoot = "/run/crioci-runtime";

    private static readonly HashSet<string> Switches = new(StringComparer.Ordinal)
    {
        "debug", "systemd-cgroup", "detached", "force", "f", "all", "a", "help", "h", "version", "v",
        "no-pivot", "no-new-keyring", "detach", "d", "rootless",
    };

    public static int Run(string[] args)
    {
        try
        {
            var verbIndex = FindVerb(args);
            if (verbIndex < 0)
            {
                Console.Out.Write(Usage);
                return args.Any(a => a is "--help" or "-h") ? 0 : 1;
            }
            var global = CliArguments.Parse(args[..verbIndex], Switches);
            var local = CliArguments.Parse(args[(verbIndex + 1)..], Switches);
            var root = global.Flag("root") ?? DefaultRoot;
            var self = Environment.ProcessPath ?? throw new CliException("cannot find my own executable");
            return args[verbIndex] switch
            {
                "init" => InitCommand.Run(local),
                "exec-init" => ExecInitCommand.Run(local),
                "monitor" => MonitorCommand.Run(local, self),
                "create" => CreateCommand.Run(root, local, self),
                "start" => StartCommand.Run(Runtime(root, self), local),
                "state" => StateCommand.Run(Runtime(root, self), local),
                "kill" => KillCommand.Run(Runtime(root, self), local),
                "delete" => DeleteCommand.Run(Runtime(root, self), local),
                "--version" or "-v" or "version" => Version(),
                var verb => throw new CliException($"unknown command {verb}\n{Usage}"),
            };
        }
        catch (Exception exception) when (exception is CliException or Core.CriOciException or Linux.SyscallException or IOException or ArgumentException)
        {
            Console.Error.WriteLine($"crioci-runtime: {exception.Message}");
            return 1;
        }
    }

    private static ContainerRuntime Runtime(string root, string self) => new(new RuntimeOptions(self, root));

    private static int FindVerb(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith('-'))
            {
                return i;
            }
            if (!args[i].Contains('=') && !Switches.Contains(args[i].TrimStart('-')))
            {
                i++; // skip the global flag's value
            }
        }
        return -1;
    }

    private static int Version()
    {
        Console.WriteLine($"crioci-runtime version {typeof(CliApp).Assembly.GetName().Version}\nspec: {Spec.SpecDefaults.OciVersion}");
        return 0;
    }

    private const string Usage = """
        Usage: crioci-runtime [--root DIR] COMMAND [OPTIONS] ID

        An OCI runtime with runc's command line.

        Commands:
          create [--bundle DIR] [--pid-file FILE] ID   create a container; its process waits for start
          start ID                                     run the created container's process
          state ID                                     print the container's state as JSON
          kill [--all] ID [SIGNAL]                     send a signal (default SIGTERM)
          delete [--force] ID                          delete a stopped (or, with --force, any) container

        Global options:
          --root DIR   state directory (default /run/crioci-runtime)

        """;
}
