namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// crioci-monitor's entry point. Not a command for people: `crioci-runtime monitor` execs it
/// with a container it has just created (see <see cref="ContainerMonitor.Run"/>). Everything it
/// reaches is what each container's monitor costs in memory, so it reaches little.
/// </summary>
public static class MonitorProgram
{
    public static int Run(string[] args)
    {
        MonitorSession session;
        try
        {
            session = MonitorSession.Parse(args);
        }
        catch (ArgumentException exception)
        {
            // Only a mismatched crioci-runtime gets here; its sync pipe is not known, so stderr it is.
            Console.Error.WriteLine($"crioci-monitor: {exception.Message} (it is started by crioci-runtime monitor)");
            return 2;
        }
        return MonitorLoop.Run(session);
    }
}
