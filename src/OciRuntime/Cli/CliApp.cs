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
        "no-pivot", "no-new-keyring", "detach", "d", "rootless", "tty", "t", "quiet", "q", "stats",
        "console-socket-fd", "stdin", "stdin-once",
    };

    public static int Run(string[] args)
    {
        string? logFile = null;
        var jsonLog = false;
        try
        {
            var verbIndex = FindVerb(args);
            if (verbIndex < 0 && args.Any(a => a is "--version" or "-v"))
            {
                // runc's global flag: containerd and Docker probe the runtime with it.
                return Version();
            }
            if (verbIndex < 0)
            {
                Console.Out.Write(Usage);
                return args.Any(a => a is "--help" or "-h") ? 0 : 1;
            }
            var global = CliArguments.Parse(args[..verbIndex], Switches);
            var local = CliArguments.Parse(args[(verbIndex + 1)..], Switches, flagsEndAfter: args[verbIndex] == "exec" ? 1 : int.MaxValue);
            var root = global.Flag("root") ?? DefaultRoot;
            logFile = global.Flag("log");
            jsonLog = global.Flag("log-format") == "json";
            if (global.Switch("systemd-cgroup"))
            {
                throw new CliException("--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs (the default)");
            }
            var verbName = args[verbIndex];
            if (verbName is "init" or "exec-init")
            {
                // These run from a read-only detached mount (ReadOnlyExecutable), whose path the
                // host cannot name: they must not ask for their own path.
                return verbName == "init" ? InitCommand.Run(local) : ExecInitCommand.Run(local);
            }
            var self = Environment.ProcessPath ?? throw new CliException("cannot find my own executable");
            return verbName switch
            {
                "monitor" => MonitorCommand.Run(local, self),
                Infra.PodInfra.Verb => PodInfraCommand.Run(local, self),
                "create" => CreateCommand.Run(root, local, self),
                "start" => StartCommand.Run(Runtime(root, self), local),
                "state" => StateCommand.Run(Runtime(root, self), local),
                "kill" => KillCommand.Run(Runtime(root, self), local),
                "delete" => DeleteCommand.Run(Runtime(root, self), local),
                "exec" => ExecCommand.Run(Runtime(root, self), local, self),
                "run" => RunCommand.Run(Runtime(root, self), root, local, self),
                "ps" => PsCommand.Run(Runtime(root, self), local),
                "list" => ListCommand.Run(Runtime(root, self), local),
                "pause" => PauseCommand.Run(Runtime(root, self), local, pause: true),
                "resume" => PauseCommand.Run(Runtime(root, self), local, pause: false),
                "update" => UpdateCommand.Run(Runtime(root, self), local),
                "features" => FeaturesCommand.Run(),
                "spec" => SpecCommand.Run(local),
                "--version" or "-v" or "version" => Version(),
                var verb => throw new CliException($"unknown command {verb}\n{Usage}"),
            };
        }
        catch (Exception exception) when (exception is CliException or Core.CriOciException or Linux.SyscallException or IOException or ArgumentException)
        {
            Console.Error.WriteLine($"crioci-runtime: {exception.Message}");
            WriteLog(logFile, jsonLog, exception.Message);
            return 1;
        }
    }

    /// <summary>
    /// runc's --log/--log-format: containerd's shim reads the last "error" record of this file
    /// to tell its caller why a command failed.
    /// </summary>
    private static void WriteLog(string? logFile, bool json, string message)
    {
        if (logFile is null)
        {
            return;
        }
        try
        {
            var time = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            var line = json
                ? $"{{\"level\":\"error\",\"msg\":{System.Text.Json.JsonSerializer.Serialize(message, Spec.OciJsonContext.Default.String)},\"time\":\"{time}\"}}\n"
                : $"time=\"{time}\" level=error msg=\"{message.Replace("\"", "\\\"")}\"\n";
            File.AppendAllText(logFile, line);
        }
        catch (IOException)
        {
            // Nowhere else to report it; stderr already has the message.
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
          create [--bundle DIR] [--pid-file FILE] [--console-socket PATH] ID
                                                       create a container; its process waits for start
          start ID                                     run the created container's process
          state ID                                     print the container's state as JSON
          kill [--all] ID [SIGNAL]                     send a signal (default SIGTERM)
          delete [--force] ID                          delete a stopped (or, with --force, any) container
          run [--bundle DIR] [--detach [--console-socket PATH]] ID
                                                       create, start and wait for a container
          exec [--process FILE] [--tty] [--detach [--console-socket PATH]] ID [ARGS]
                                                       run another process in a running container
          ps [--format json] ID                        list the container's processes
          list [--format json] [--quiet]               list containers
          pause ID / resume ID                         freeze and thaw the container's processes
          update [--resources FILE|-] ID               change the container's cgroup limits
          features                                     print the runtime's features document
          spec [--bundle DIR]                          write a default config.json

        Global options:
          --root DIR          state directory (default /run/crioci-runtime)
          --log FILE          append errors to FILE
          --log-format json   write --log records as JSON (runc's format)

        """;
}
