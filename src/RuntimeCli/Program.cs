// crioci-runtime: the embedded OCI runtime's command line (see CriOci.OciRuntime.Cli).
return CriOci.OciRuntime.Cli.CliApp.Run(args);
