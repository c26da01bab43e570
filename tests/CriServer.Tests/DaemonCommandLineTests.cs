namespace CriOci.CriServer.Tests;

public sealed class DaemonCommandLineTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("crioci-options-");

    public void Dispose() => directory.Delete(recursive: true);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--root", "/x", "--help")]
    public void Parse_Help_ShowsHelp(params string[] args)
    {
        Assert.True(DaemonCommandLine.Parse(args).ShowHelp);
    }

    [Fact]
    public void Parse_NoArguments_Defaults()
    {
        var options = DaemonCommandLine.Parse([]).Options!;

        Assert.Equal("/run/crioci/crioci.sock", options.SocketPath);
        Assert.Equal("/var/lib/crioci", options.RootDirectory);
        Assert.Equal("/run/crioci", options.StateDirectory);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "crioci-runtime"), options.RuntimeExecutable);
        Assert.Equal("/var/lib/crioci/images", options.ImageRootDirectory);
        Assert.Empty(options.InsecureRegistries);
    }

    [Fact]
    public void Parse_EveryFlag_Used()
    {
        var options = DaemonCommandLine.Parse(["--socket", "/s/c.sock", "--root=/r", "--state", "/st", "--runtime", "/bin/rt"]).Options!;

        Assert.Equal(("/s/c.sock", "/r", "/st", "/bin/rt"), (options.SocketPath, options.RootDirectory, options.StateDirectory, options.RuntimeExecutable));
    }

    [Theory]
    [InlineData("unknown argument: --bogus", "--bogus")]
    [InlineData("unknown argument: extra", "extra")]
    [InlineData("--root needs a value", "--root")]
    [InlineData("--socket needs a value", "--socket=")]
    public void Parse_BadArguments_UsageError(string error, params string[] args)
    {
        var command = DaemonCommandLine.Parse(args);

        Assert.Null(command.Options);
        Assert.Equal(error, command.Error);
    }

    [Fact]
    public void Parse_RegistryOptions_DefaultsThenFileThenFlag()
    {
        var defaults = DaemonCommandLine.Parse([]).Options!;
        var config = Write("""{"registries": {"configDir": "/file/certs.d", "authFile": "/file/auth.json"}}""");
        var fromFile = DaemonCommandLine.Parse(["--config", config]).Options!;
        var fromFlag = DaemonCommandLine.Parse(["--config", config, "--registry-auth-file", "/flag/auth.json"]).Options!;

        Assert.Equal(("/etc/crioci/certs.d", "/etc/crioci/auth.json"), (defaults.RegistryConfigDirectory, defaults.RegistryAuthFile));
        Assert.Equal(("/file/certs.d", "/file/auth.json"), (fromFile.RegistryConfigDirectory, fromFile.RegistryAuthFile));
        Assert.Equal(("/file/certs.d", "/flag/auth.json"), (fromFlag.RegistryConfigDirectory, fromFlag.RegistryAuthFile));
    }

    [Fact]
    public void Parse_ConfigFileAndFlags_FlagsOverrideFile()
    {
        var config = Write("""
            {
              // comments are allowed
              "socket": "/file/crioci.sock",
              "root": "/file/root",
              "state": "/file/state",
              "runtime": "/file/runtime",
              "insecureRegistries": ["registry.local:5000"],
            }
            """);

        var options = DaemonCommandLine.Parse(["--config", config, "--root", "/flag/root"]).Options!;

        Assert.Equal("/flag/root", options.RootDirectory);
        Assert.Equal("/file/crioci.sock", options.SocketPath);
        Assert.Equal("/file/state", options.StateDirectory);
        Assert.Equal("/file/runtime", options.RuntimeExecutable);
        Assert.Equal(["registry.local:5000"], options.InsecureRegistries);
    }

        [Fact]
    public void Parse_PinnedImages_FromConfigFileIntoImageStoreOptions()
    {
        var config = Write("""{"images": {"pinned": ["registry.k8s.io/pause:3.10", "sha256:0123"]}}""");

        var options = DaemonCommandLine.Parse(["--config", config], NoEnvironment).Options!;

        Assert.Equal(["registry.k8s.io/pause:3.10", "sha256:0123"], options.ImageStore.PinnedImages);
        Assert.Empty(DaemonCommandLine.Parse([], NoEnvironment).Options!.ImageStore.PinnedImages);
    }

    [Theory]
    [InlineData("""{ "sockte": "/x" }""", " line 1 key sockte: ")]
    [InlineData("""{ "root": 5 }""", " line 1 key root: ")]
    [InlineData("{\n  \"root\": ", " line 2")]
    [InlineData("null", ": expected a JSON object")]
    [InlineData("""{ "insecureRegistries": [""] }""", " line 1 key insecureRegistries: holds an empty entry")]
    [InlineData("{\n  \"metrics\": {\n    \"adress\": \"x\"\n  }\n}", " line 3 key metrics.adress: ")]
    [InlineData("{\n  \"metrics\": {\n    \"address\": \"localhost:9464\"\n  }\n}", " line 3 key metrics.address: \"localhost:9464\" is not an IP address")]
    [InlineData("{\n  \"metrics\": { \"runtimeMetrics\": \"yes\" }\n}", " line 2 key metrics.runtimeMetrics: ")]
    [InlineData("{\n\n  \"log\": { \"level\": \"loud\" }\n}", " line 3 key log.level: \"loud\" is not one of")]
    [InlineData("""{ "log": { "format": "xml" } }""", " line 1 key log.format: \"xml\" is not text or json")]
    [InlineData("""{ "otlp": { "protocol": "http" } }""", " line 1 key otlp.protocol: \"http\" is not grpc or http/protobuf")]
    [InlineData("""{ "otlp": { "endpoint": "collector:4317" } }""", "key otlp.endpoint: ")]
    [InlineData("""{ "images": { "pinned": ["pause:3.10", " "] } }""", " line 1 key images.pinned: holds an empty entry")]
    public void Parse_BadConfigFile_ErrorNamesFileKeyAndLine(string content, string problem)
    {
        var config = Write(content);

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--config", config], NoEnvironment));

        Assert.StartsWith($"config file {config}", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Parse_ConfigDefault_PrintsEveryKeyWithItsDefault()
    {
        var command = DaemonCommandLine.Parse(["config", "default"]);

        Assert.Null(command.Options);
        var printed = Assert.IsType<string>(command.Output);
        Assert.Contains("\"socket\": \"/run/crioci/crioci.sock\"", printed);
        foreach (var key in new[] { "root", "state", "runtime", "insecureRegistries", "log", "level", "format", "metrics", "address", "runtimeMetrics", "otlp", "endpoint", "protocol", "serviceName" })
        {
            Assert.Contains($"\"{key}\":", printed);
        }
    }

    [Fact]
    public void Parse_ConfigDefaultOutput_LoadsBackToTheDefaults()
    {
        var config = Write(DaemonCommandLine.Parse(["config", "default"]).Output!);

        var fromFile = DaemonCommandLine.Parse(["--config", config], NoEnvironment).Options!;
        var builtIn = DaemonCommandLine.Parse([], NoEnvironment).Options!;

        Assert.Equal(builtIn.SocketPath, fromFile.SocketPath);
        Assert.Equal(builtIn.RootDirectory, fromFile.RootDirectory);
        Assert.Equal(builtIn.RuntimeExecutable, fromFile.RuntimeExecutable);
        Assert.Equal(builtIn.Telemetry, fromFile.Telemetry);
    }

    [Theory]
    [InlineData("config")]
    [InlineData("config", "show")]
    public void Parse_ConfigWithoutDefault_UsageError(params string[] args)
    {
        Assert.Equal("usage: crioci config default", DaemonCommandLine.Parse(args).Error);
    }

    [Fact]
    public void Parse_Environment_OverridesFileAndIsOverriddenByFlags()
    {
        var config = Write("""
            {
              "root": "/file/root",
              "state": "/file/state",
              "metrics": { "address": "127.0.0.1:1" },
              "log": { "level": "warning" }
            }
            """);
        var environment = new Dictionary<string, string>
        {
            ["CRIOCI_CONFIG"] = config,
            ["CRIOCI_ROOT"] = "/env/root",
            ["CRIOCI_STATE"] = "/env/state",
            ["CRIOCI_METRICS_ADDRESS"] = "127.0.0.1:2",
            ["CRIOCI_LOG_LEVEL"] = "debug",
        };

        var options = DaemonCommandLine.Parse(["--state", "/flag/state", "--log-format=json"], environment.GetValueOrDefault).Options!;

        Assert.Equal("/env/root", options.RootDirectory);
        Assert.Equal("/flag/state", options.StateDirectory);
        Assert.Equal("127.0.0.1:2", options.Telemetry.MetricsAddress);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, options.Telemetry.LogLevel);
        Assert.Equal("json", options.Telemetry.LogFormat);
    }

    [Fact]
    public void Parse_TelemetryKeys_ReachTheOptions()
    {
        var config = Write("""
            {
              "metrics": { "address": "0.0.0.0:9464", "runtimeMetrics": false },
              "otlp": { "endpoint": "http://127.0.0.1:4318", "protocol": "http/protobuf", "serviceName": "node-a" }
            }
            """);

        var telemetry = DaemonCommandLine.Parse(["--config", config], NoEnvironment).Options!.Telemetry;

        Assert.Equal(new Telemetry.TelemetryOptions("0.0.0.0:9464", "http://127.0.0.1:4318", "http/protobuf", "node-a", RuntimeMetrics: false), telemetry);
    }

    [Fact]
    public void Parse_EmptyMetricsAddressFlag_TurnsMetricsOff()
    {
        var config = Write("""{ "metrics": { "address": "127.0.0.1:9464" } }""");

        var telemetry = DaemonCommandLine.Parse(["--config", config, "--metrics-address="], NoEnvironment).Options!.Telemetry;

        Assert.Null(telemetry.GetMetricsEndPoint());
    }

    [Theory]
    [InlineData("--metrics-address", "nonsense", "--metrics-address")]
    [InlineData("--log-level", "loud", "--log-level")]
    [InlineData("--log-format", "xml", "--log-format")]
    [InlineData("--otlp-endpoint", "not a url", "--otlp-endpoint")]
    public void Parse_BadTelemetryFlag_ErrorNamesTheFlag(string flag, string value, string named)
    {
        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse([flag, value], NoEnvironment));

        Assert.StartsWith(named, error.Message);
    }

    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void Parse_CniNativeBridge_OnByDefaultOffByFlagOrEnvironment()
    {
        Assert.True(DaemonCommandLine.Parse([], NoEnvironment).Options!.Cni.NativeDefaultNetwork);
        Assert.False(DaemonCommandLine.Parse(["--cni-native-bridge", "false"], NoEnvironment).Options!.Cni.NativeDefaultNetwork);
        Assert.False(DaemonCommandLine.Parse([], name => name == "CRIOCI_CNI_NATIVE_BRIDGE" ? "false" : null).Options!.Cni.NativeDefaultNetwork);

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--cni-native-bridge", "yes"], NoEnvironment));

        Assert.StartsWith("--cni-native-bridge", error.Message);
    }

    [Fact]
    public void Parse_MissingConfigFile_ErrorNamesFile()
    {
        var missing = Path.Combine(directory.FullName, "absent.json");

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--config", missing]));

        Assert.StartsWith($"config file {missing}: ", error.Message);
    }

    private string Write(string content)
    {
        var path = Path.Combine(directory.FullName, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        return path;
    }
}
