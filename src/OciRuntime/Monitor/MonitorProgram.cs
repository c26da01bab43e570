namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// crioci-monitor's entry point. Not a command for people: `crioci-runtime monitor` execs it
/// with a container it has just created (see <see cref="ContainerMonitor.Run"/>). Everything it
/// reaches is what each container's monitor costs in memory, so it reaches little.
/// </summary>
public static unsafe class MonitorProgram
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
            // Only a mismatched crioci-runtime gets here; its sync pipe is not known, so stderr it is
            // (written directly: System.Console would be a tenth of the executable).
            var line = System.Text.Encoding.UTF8.GetBytes($"crioci-monitor: {exception.Message} (it is started by crioci-runtime monitor)\n");
            fixed (byte* pointer = line)
            {
                Linux.Interop.LibC.write(2, pointer, (nuint)line.Length);
            }
            return 2;
        }
        return MonitorLoop.Run(session);
    }
}
