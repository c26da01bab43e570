using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace CriOci.Chart.Tests;

/// <summary>
/// charts/crioci as helm and the API server see it: it lints, it renders with the defaults and
/// with every optional part on or off, and each rendered manifest deserialises strictly (no
/// unknown field) into KubernetesClient's models, so a misspelt or misplaced key fails here.
/// </summary>
public sealed class HelmChartTests
{
    private static readonly Lazy<string> Helm = new(InstallHelm);

    private static string Root { get; } = FindRoot();

    private static string ChartDirectory => Path.Combine(Root, "charts", "crioci");

    [Fact]
    public void Lint_Chart_Passes()
    {
        var (code, output) = Run(Helm.Value, "lint", "--strict", ChartDirectory);

        Assert.True(code == 0, output);
        Assert.Contains("0 chart(s) failed", output);
    }

    [Fact]
    public void Template_Defaults_RendersConfigMapDaemonSetAndService()
    {
        var objects = Render();

        Assert.Equal(["ConfigMap", "DaemonSet", "Service"], objects.Select(o => o.Kind).Order());
        var daemonSet = objects.OfType<V1DaemonSet>().Single();
        var pod = daemonSet.Spec.Template.Spec;
        Assert.True(pod.HostPID);
        Assert.True(pod.HostNetwork);
        var container = Assert.Single(pod.Containers);
        Assert.True(container.SecurityContext.Privileged);
        Assert.Equal(["/usr/local/bin/crioci", "health", "--socket", "/run/crioci/crioci.sock"], container.LivenessProbe.Exec.Command);
        Assert.Equal(container.LivenessProbe.Exec.Command, container.ReadinessProbe.Exec.Command);
        Assert.Equal("metrics", Assert.Single(container.Ports).Name);
        Assert.Equal("RollingUpdate", daemonSet.Spec.UpdateStrategy.Type);
        Assert.Contains(pod.Tolerations, t => t.OperatorProperty == "Exists");
        Assert.NotNull(container.Resources.Requests["memory"]);
        var hostPaths = pod.Volumes.Where(v => v.HostPath is not null).Select(v => v.HostPath.Path).ToHashSet();
        Assert.Superset(new HashSet<string> { "/var/lib/crioci", "/run/crioci", "/etc/cni/net.d", "/opt/cni/bin", "/var/log/pods" }, hostPaths);
        foreach (var mount in container.VolumeMounts)
        {
            Assert.Contains(pod.Volumes, v => v.Name == mount.Name);
        }
    }

    [Fact]
    public void Template_ConfigMap_HoldsADaemonConfigWithTheMountedPaths()
    {
        var configMap = Render("--set", "config.otlp.endpoint=http://collector:4317").OfType<V1ConfigMap>().Single();

        using var config = JsonDocument.Parse(configMap.Data["crioci.json"]);
        var root = config.RootElement;
        Assert.Equal("/run/crioci/crioci.sock", root.GetProperty("socket").GetString());
        Assert.Equal("/var/lib/crioci", root.GetProperty("root").GetString());
        Assert.Equal("0.0.0.0:9464", root.GetProperty("metrics").GetProperty("address").GetString());
        Assert.Equal("http://collector:4317", root.GetProperty("otlp").GetProperty("endpoint").GetString());
    }

    [Fact]
    public void Template_ConfigMap_UsesOnlyKeysTheDaemonKnows()
    {
        var daemon = Path.Combine(Root, "artifacts", "bin", "crioci");
        Assert.True(File.Exists(daemon), $"{daemon} is missing: run ./build.sh first (test.sh does)");
        var (code, defaults) = Run(daemon, "config", "default");
        Assert.True(code == 0, defaults);
        var configMap = Render().OfType<V1ConfigMap>().Single();

        using var known = JsonDocument.Parse(defaults);
        using var rendered = JsonDocument.Parse(configMap.Data["crioci.json"]);

        Assert.Empty(Keys(rendered.RootElement).Except(Keys(known.RootElement)));
    }

    [Fact]
    public void Template_ServiceMonitorOn_RendersAStrictServiceMonitor()
    {
        var monitor = Render("--set", "metrics.serviceMonitor.enabled=true").OfType<ServiceMonitor>().Single();

        Assert.Equal("metrics", Assert.Single(monitor.Spec.Endpoints).Port);
    }

    [Fact]
    public void Template_MetricsOff_NoServiceNoPortSameProbes()
    {
        var objects = Render("--set", "metrics.enabled=false");

        Assert.DoesNotContain(objects, o => o.Kind == "Service");
        var container = objects.OfType<V1DaemonSet>().Single().Spec.Template.Spec.Containers.Single();
        Assert.Null(container.Ports);
        Assert.Equal("health", container.LivenessProbe.Exec.Command[1]);
        using var config = JsonDocument.Parse(objects.OfType<V1ConfigMap>().Single().Data["crioci.json"]);
        Assert.Equal("", config.RootElement.GetProperty("metrics").GetProperty("address").GetString());
    }

    [Fact]
    public void Template_SeparateSocketDirectory_MountsIt()
    {
        var pod = Render("--set", "hostPaths.socketDir=/run/crioci-sock").OfType<V1DaemonSet>().Single().Spec.Template.Spec;

        Assert.Contains(pod.Volumes, v => v.HostPath?.Path == "/run/crioci-sock");
    }

    private static IEnumerable<string> Keys(JsonElement element, string prefix = "") =>
        element.ValueKind != JsonValueKind.Object
            ? []
            : element.EnumerateObject().SelectMany(p => Keys(p.Value, $"{prefix}{p.Name}.").Prepend($"{prefix}{p.Name}"));

    /// <summary>helm template, then a strict load of every document into its model type.</summary>
    private static List<IKubernetesObject> Render(params string[] extra)
    {
        var (code, output) = Run(Helm.Value, ["template", "test", ChartDirectory, "--namespace", "kube-system", .. extra]);
        Assert.True(code == 0, output);
        var typeMap = new Dictionary<string, Type> { ["monitoring.coreos.com/v1/ServiceMonitor"] = typeof(ServiceMonitor) };
        var objects = KubernetesYaml.LoadAllFromString(output, typeMap, strict: true);
        Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject>(o));
        return [.. objects.Cast<IKubernetesObject>()];
    }

    private static string InstallHelm()
    {
        var (code, output) = Run(Path.Combine(Root, "scripts", "install-helm.sh"));
        Assert.True(code == 0, $"scripts/install-helm.sh failed:\n{output}");
        // Its stdout's last line is the path; its stderr (appended by Run) says what it installed.
        var helm = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last(line => line.StartsWith('/'));
        Assert.True(File.Exists(helm), $"install-helm.sh named {helm}, which does not exist:\n{output}");
        return helm;
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CriOci.sln")))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no CriOci.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>prometheus-operator's ServiceMonitor (monitoring.coreos.com/v1), the fields the chart uses.</summary>
public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public ServiceMonitorSpec Spec { get; set; } = new();
}

public sealed class ServiceMonitorSpec
{
    [JsonPropertyName("selector")]
    public V1LabelSelector Selector { get; set; } = new();

    [JsonPropertyName("endpoints")]
    public List<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}

public sealed class ServiceMonitorEndpoint
{
    [JsonPropertyName("port")]
    public string Port { get; set; } = "";

    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    [JsonPropertyName("interval")]
    public string Interval { get; set; } = "";
}
