// crioci-monitor: the per-container monitor that crioci-runtime monitor execs (see CriOci.OciRuntime.Monitor.MonitorProgram).
return CriOci.OciRuntime.Monitor.MonitorProgram.Run(args);
