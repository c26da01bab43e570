using System.Globalization;
using System.Text.Json;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// `exec [--process FILE | --env/--cwd/--user/--tty ... ID ARGS...] [--detach] [--pid-file FILE]
/// [--console-socket PATH] ID`: an extra process in a running container with our stdio, or with
/// a terminal whose master goes to the console socket. Detached, the process outlives us
/// (containerd's shim, a subreaper, adopts it); otherwise we wait and pass on its exit code.
/// </summary>
internal static class ExecCommand
{
    public static int Run(ContainerRuntime runtime, CliArguments args, string self)
    {
        var id = args.Required(0, "container ID");
        var state = runtime.GetState(id) ?? throw new Core.NotFoundException($"container {id} does not exist");
        if (state.Status != ContainerStatus.Running)
        {
            throw new Core.FailedPreconditionException($"cannot exec in a {state.Status.ToSpecString()} container");
        }
        var stateFile = runtime.StateFile(id)!;
        // As in runc, a process file is taken as it is; --tty only shapes a process built from flags.
        var process = args.Flag("process", "p") is { } file
            ? JsonSerializer.Deserialize(File.ReadAllBytes(file), OciJsonContext.Default.ProcessSpec) ?? throw new CliException($"{file} is empty")
            : ProcessFromFlags(stateFile.Bundle, args);
        var detach = args.Switch("detach", "d");
        var consoleSocketPath = args.Flag("console-socket");
        ConsoleSocketOption.Check(process.Terminal, detach, consoleSocketPath);
        var containerLinux = ContainerExec.ReadContainerLinux(stateFile.Bundle);
        if (DirectExec.CanRun(process, containerLinux, state.Pid))
        {
            var program = ExecSeccompProgram.ForContainer(runtime.StateOf(id), containerLinux?.Seccomp);
            var directPid = StartDirect(process, state.Pid, stateFile.CgroupPath, program);
            return Finish(directPid, args, detach, foreground: null);
        }
        var processFile = Path.Combine(Path.GetTempPath(), $"crioci-exec-{Guid.NewGuid():N}.json");
        Core.AtomicFile.ReplaceVolatile(processFile, JsonSerializer.SerializeToUtf8Bytes(process, OciJsonContext.Default.ProcessSpec));
        using var foreground = process.Terminal && !detach ? ForegroundTerminal.Open() : null;
        var consoleSocket = -1;
        try
        {
            consoleSocket = foreground?.ConsoleSocket ?? ConsoleSocketOption.Connect(consoleSocketPath);
            var pid = ContainerExec.StartProcess(self, state.Pid, processFile, stateFile.CgroupPath, stateFile.Bundle, new InitStdio(0, 1, 2, consoleSocket), out var syncRead);
            if (foreground is not null)
            {
                foreground.CloseChildEnd();
            }
            else if (consoleSocket >= 0)
            {
                LibC.close(consoleSocket);
            }
            consoleSocket = -1;
            var report = SyncPipe.ReadAll(syncRead);
            LibC.close(syncRead);
            if (report is not null)
            {
                LibC.waitpid(pid, out _, 0);
                throw new CliException(SyncPipe.ErrorText(report));
            }
            return Finish(pid, args, detach, foreground);
        }
        finally
        {
            if (consoleSocket >= 0 && foreground is null)
            {
                LibC.close(consoleSocket);
            }
            File.Delete(processFile);
        }
    }

    /// <summary>Without exec-init (<see cref="DirectExec"/>): our stdio; setup failures are the command's error.</summary>
    private static int StartDirect(ProcessSpec process, int initPid, string? cgroupPath, ExecSeccompProgram? program)
    {
        try
        {
            return DirectExec.Start(process, initPid, cgroupPath, program, new InitStdio(0, 1, 2));
        }
        catch (InitException exception)
        {
            throw new CliException(exception.Message);
        }
    }

    /// <summary>The pid file, then either return (detached) or wait and pass on the exit code.</summary>
    private static int Finish(int pid, CliArguments args, bool detach, ForegroundTerminal? foreground)
    {
        if (args.Flag("pid-file") is { } pidFile)
        {
            Core.AtomicFile.WriteAllText(Path.GetFullPath(pidFile), pid.ToString(CultureInfo.InvariantCulture));
        }
        if (detach)
        {
            return 0;
        }
        foreground?.Relay();
        LibC.waitpid(pid, out var status, 0);
        return LibC.ExitCodeFromWaitStatus(status, out _);
    }

    /// <summary>The container's own process settings with the command line's args, env, cwd and user.</summary>
    private static ProcessSpec ProcessFromFlags(string bundle, CliArguments args)
    {
        var spec = ContainerLauncher.LoadSpec(bundle);
        var process = spec.Process ?? throw new CliException("the container's config.json has no process");
        var command = args.Positional.Skip(1).ToList();
        if (command.Count == 0)
        {
            throw new CliException("exec needs a command or --process");
        }
        var env = (process.Env ?? []).ToList();
        if (args.Flag("env", "e") is { } extra)
        {
            env.Add(extra);
        }
        var user = process.User;
        if (args.Flag("user", "u") is { } userFlag)
        {
            var parts = userFlag.Split(':');
            user = user with
            {
                Uid = uint.Parse(parts[0], CultureInfo.InvariantCulture),
                Gid = parts.Length > 1 ? uint.Parse(parts[1], CultureInfo.InvariantCulture) : user.Gid,
            };
        }
        return process with { Args = command, Env = env, Cwd = args.Flag("cwd") ?? process.Cwd, User = user, Terminal = args.Switch("tty", "t") };
    }
}
