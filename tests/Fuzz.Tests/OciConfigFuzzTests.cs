using System.Text;
using System.Text.Json;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Seccomp;
using CriOci.OciRuntime.Spec;
using Xunit.Abstractions;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// A bundle's config.json is written by whoever calls crioci-runtime (containerd's shim, a
/// user): everything `create` reads and checks before it touches the system must answer a bad
/// document with InvalidArgumentException (a JsonException wrapped with the path) and nothing else.
/// </summary>
public sealed class OciConfigFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _bundle = Directory.CreateTempSubdirectory("crioci-fuzz-bundle-").FullName;

    private static readonly IReadOnlyList<string> ValidConfigs = [JsonMutator.Serialize(FullSpec(), OciJsonContext.Default.RuntimeSpec)];

    [Fact]
    public async Task LoadAndValidate_RandomAndMutatedConfigs_ThrowOnlyInvalidArgument()
    {
        await FuzzRun.RunAsync(output, "config.json", maxCases: 4000, budget: TimeSpan.FromSeconds(8), random =>
        {
            File.WriteAllBytes(Path.Combine(_bundle, "config.json"), JsonMutator.Next(random, ValidConfigs));
            try
            {
                LoadAndValidateAsCreateDoes(_bundle);
            }
            catch (Core.InvalidArgumentException)
            {
            }
        });
    }

    /// <summary>
    /// The runtime reads config.json with RuntimeSpecReader, the daemon and external tools write
    /// it with OciJsonContext: for any document, both must give the same spec or both reject it.
    /// </summary>
    [Fact]
    public async Task RuntimeSpecReader_RandomAndMutatedConfigs_AgreeWithOciJsonContext()
    {
        await FuzzRun.RunAsync(output, "config.json reader", maxCases: 4000, budget: TimeSpan.FromSeconds(8), random =>
        {
            var config = JsonMutator.Next(random, ValidConfigs);

            var expected = Outcome(() => JsonSerializer.Deserialize(config, OciJsonContext.Default.RuntimeSpec));
            var actual = Outcome(() => RuntimeSpecReader.Read(config));

            Assert.True(expected == actual, $"OciJsonContext: {expected}\nRuntimeSpecReader: {actual}\ndocument: {Encoding.UTF8.GetString(config)}");
        });
    }

    [Fact]
    public void LoadAndValidate_TheUnmutatedSeed_IsAccepted()
    {
        File.WriteAllText(Path.Combine(_bundle, "config.json"), ValidConfigs[0]);

        var (joins, flags) = LoadAndValidateAsCreateDoes(_bundle);

        Assert.Single(joins);
        Assert.NotEqual(0, flags);
    }

    /// <summary>Found by the fuzzer: JSON nulls where the spec has an object or a string were met by a NullReferenceException.</summary>
    [Theory]
    [InlineData("""{"linux":{"namespaces":[{"type":"pid"},null]}}""")]
    [InlineData("""{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[null]}}}""")]
    [InlineData("""{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":null,"action":"SCMP_ACT_ERRNO"}]}}}""")]
    [InlineData("""{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read",null],"action":"SCMP_ACT_ERRNO"}]}}}""")]
    [InlineData("""{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[null]}]}}}""")]
    [InlineData("""{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":null}]}]}}}""")]
    public void LoadAndValidate_NullWhereTheSpecHasAValue_IsInvalidArgument(string config)
    {
        File.WriteAllText(Path.Combine(_bundle, "config.json"), config);

        var error = Assert.Throws<Core.InvalidArgumentException>(() => LoadAndValidateAsCreateDoes(_bundle));

        Assert.StartsWith("linux.", error.Message);
    }

    /// <summary>The spec as the context writes it, or JsonException for a rejected document.</summary>
    private static string Outcome(Func<RuntimeSpec?> read)
    {
        try
        {
            return JsonSerializer.Serialize(read(), OciJsonContext.Default.RuntimeSpec);
        }
        catch (JsonException)
        {
            return nameof(JsonException);
        }
    }

    /// <summary>The checks ContainerLauncher.Create makes, in its order, before it creates anything.</summary>
    private static (IReadOnlyList<NamespaceJoin> Joins, int UnshareFlags) LoadAndValidateAsCreateDoes(string bundle)
    {
        var spec = ContainerLauncher.LoadSpec(bundle);
        var namespaces = ContainerLauncher.Namespaces(spec);
        if (spec.Linux?.Seccomp is { } seccomp)
        {
            SeccompFilter.Validate(seccomp);
        }
        return namespaces;
    }

    /// <summary>Every part of the spec that create reads, filled, so mutations reach each of them.</summary>
    private static RuntimeSpec FullSpec() => new()
    {
        Process = new ProcessSpec
        {
            User = new UserSpec { Uid = 1000, Gid = 1000, Umask = 18, AdditionalGids = [10, 20] },
            Args = ["sh", "-c", "echo hi"],
            Env = ["PATH=" + SpecDefaults.DefaultPath],
            Cwd = "/",
            Capabilities = new CapabilitiesSpec { Bounding = SpecDefaults.Capabilities, Effective = SpecDefaults.Capabilities },
            Rlimits = [new RlimitSpec { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
            NoNewPrivileges = true,
            OomScoreAdj = 100,
        },
        Root = new RootSpec { Path = "rootfs", Readonly = true },
        Hostname = "fuzz",
        Mounts = SpecDefaults.Mounts(),
        Hooks = new HooksSpec { Prestart = [new HookSpec { Path = "/bin/true", Args = ["true"], Timeout = 5 }] },
        Annotations = new Dictionary<string, string> { ["io.kubernetes.cri.container-type"] = "container" },
        Linux = new LinuxSpec
        {
            Namespaces =
            [
                new() { Type = "pid" }, new() { Type = "ipc" }, new() { Type = "uts" }, new() { Type = "mount" },
                new() { Type = "network", Path = "/run/netns/fuzz" },
            ],
            Devices = [new DeviceSpec { Type = "c", Path = "/dev/fuse", Major = 10, Minor = 229, FileMode = 438 }],
            CgroupsPath = "/crioci/fuzz",
            Resources = new ResourcesSpec
            {
                Devices = SpecDefaults.DeviceRules,
                Memory = new MemorySpec { Limit = 1 << 28 },
                Cpu = new CpuSpec { Shares = 512, Quota = 50000, Period = 100000, Cpus = "0" },
                Pids = new PidsSpec { Limit = 100 },
                HugepageLimits = [new HugepageLimitSpec { PageSize = "2MB", Limit = 0 }],
            },
            Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1" },
            MaskedPaths = SpecDefaults.MaskedPaths,
            ReadonlyPaths = SpecDefaults.ReadonlyPaths,
            Seccomp = new SeccompSpec
            {
                DefaultAction = "SCMP_ACT_ERRNO",
                DefaultErrnoRet = 1,
                Architectures = ["SCMP_ARCH_X86_64"],
                Flags = ["SECCOMP_FILTER_FLAG_LOG"],
                Syscalls =
                [
                    new SeccompSyscallSpec { Names = ["read", "write"], Action = "SCMP_ACT_ALLOW" },
                    new SeccompSyscallSpec
                    {
                        Names = ["personality"],
                        Action = "SCMP_ACT_ALLOW",
                        Args = [new SeccompArgSpec { Index = 0, Value = 0, Op = "SCMP_CMP_EQ" }],
                    },
                ],
            },
        },
    };

    public void Dispose() => Directory.Delete(_bundle, recursive: true);
}
