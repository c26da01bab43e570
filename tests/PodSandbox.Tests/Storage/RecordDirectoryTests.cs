using CriOci.Cri.V1;
using CriOci.PodSandbox.Storage;

namespace CriOci.PodSandbox.Tests.Storage;

public sealed class RecordDirectoryTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-records-").FullName;
    private readonly RecordDirectory<SandboxRecord, PodSandboxConfig> _store;

    public RecordDirectoryTests()
    {
        _store = new RecordDirectory<SandboxRecord, PodSandboxConfig>(Path.Combine(_temp, "pods"), "sandbox.json",
            StoreJsonContext.Default.SandboxRecord, PodSandboxConfig.Parser);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static SandboxRecord Record(string id) => new(id, new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(6),
        Ready: true, RuntimeHandler: "", NetworkNamespace: "/ns/net", IpcNamespace: null, UtsNamespace: "/ns/uts",
        ShmDirectory: "/shm", HostnameFile: "/hostname", HostsFile: "/hosts", ResolvConfFile: "/resolv.conf");

    private static PodSandboxConfig Config(string name)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "ns", Uid = "u", Attempt = 2 },
            Hostname = "h",
        };
        config.Labels.Add("app", name);
        return config;
    }

    [Fact]
    public void LoadAll_MissingRoot_ReturnsNothing()
    {
        var (complete, incomplete) = _store.LoadAll();

        Assert.Empty(complete);
        Assert.Empty(incomplete);
    }

    [Fact]
    public void Save_ThenLoadAll_RoundTripsRecordAndConfig()
    {
        _store.Save("p1", Record("p1"), Config("one"));
        _store.Save("p2", Record("p2"), Config("two"));

        var (complete, incomplete) = _store.LoadAll();

        Assert.Empty(incomplete);
        Assert.Equal(2, complete.Count);
        var one = complete.Single(c => c.Record.Id == "p1");
        Assert.Equal(Record("p1"), one.Record);
        Assert.Equal(Config("one"), one.Config);
    }

    [Fact]
    public void SaveRecord_Existing_ReplacesOnlyTheRecord()
    {
        _store.Save("p1", Record("p1"), Config("one"));

        _store.SaveRecord("p1", Record("p1") with { Ready = false });

        var (complete, _) = _store.LoadAll();
        Assert.False(Assert.Single(complete).Record.Ready);
        Assert.Equal(Config("one"), complete[0].Config);
    }

    [Fact]
    public void Save_Always_LeavesOnlyTheFinalFiles()
    {
        _store.Save("p1", Record("p1"), Config("one"));
        _store.SaveRecord("p1", Record("p1") with { Ready = false });

        Assert.Equal(["config.pb", "sandbox.json"], Directory.GetFiles(_store.PathOf("p1")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void StageSave_BeforeCommit_IsIncompleteAndHidesTheRecord()
    {
        using var staged = _store.StageSave("p1", Record("p1"), Config("one"));

        var (complete, incomplete) = _store.LoadAll();

        Assert.Empty(complete);
        Assert.Equal(["p1"], incomplete);
        Assert.False(File.Exists(Path.Combine(_store.PathOf("p1"), "sandbox.json")));
    }

    [Fact]
    public void StageSave_Committed_LoadsLikeSave()
    {
        using (var staged = _store.StageSave("p1", Record("p1"), Config("one")))
        {
            staged.Commit();
        }

        var (complete, incomplete) = _store.LoadAll();

        Assert.Empty(incomplete);
        var one = Assert.Single(complete);
        Assert.Equal(Record("p1"), one.Record);
        Assert.Equal(Config("one"), one.Config);
        Assert.Equal(["config.pb", "sandbox.json"], Directory.GetFiles(_store.PathOf("p1")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void StageSave_DisposedUncommitted_LeavesNoTemporaryAndNoRecord()
    {
        _store.StageSave("p1", Record("p1"), Config("one")).Dispose();

        Assert.Equal(["config.pb"], Directory.GetFiles(_store.PathOf("p1")).Select(Path.GetFileName));
        Assert.Equal(["p1"], _store.LoadAll().Incomplete);
    }

    [Fact]
    public void StageSave_CommitTwice_Throws()
    {
        var staged = _store.StageSave("p1", Record("p1"), Config("one"));
        staged.Commit();

        Assert.Throws<ObjectDisposedException>(() => staged.Commit());
    }

    [Fact]
    public void ReplaceRecordUntilReboot_Existing_ReplacesOnlyTheRecord()
    {
        _store.Save("p1", Record("p1"), Config("one"));

        _store.ReplaceRecordUntilReboot("p1", Record("p1") with { Ready = false });

        var (complete, _) = _store.LoadAll();
        Assert.False(Assert.Single(complete).Record.Ready);
        Assert.Equal(Config("one"), complete[0].Config);
        Assert.Equal(["config.pb", "sandbox.json"], Directory.GetFiles(_store.PathOf("p1")).Select(Path.GetFileName).Order());
    }

    public static TheoryData<string, bool, bool, string?> IncompleteCases => new()
    {
        { "empty directory", false, false, null },
        { "config only (crash before the record)", true, false, null },
        { "record only", false, true, null },
        { "corrupt record", true, false, "{ not json" },
        { "null record", true, false, "null" },
    };

    [Theory]
    [MemberData(nameof(IncompleteCases))]
    public void LoadAll_IncompleteDirectory_IsReportedNotLoaded(string name, bool writeConfig, bool writeRecord, string? recordText)
    {
        _store.Save("good", Record("good"), Config("good"));
        var directory = _store.PathOf("bad");
        Directory.CreateDirectory(directory);
        if (writeConfig)
        {
            File.WriteAllBytes(Path.Combine(directory, "config.pb"), Google.Protobuf.MessageExtensions.ToByteArray(Config("bad")));
        }
        if (writeRecord)
        {
            File.WriteAllBytes(Path.Combine(directory, "sandbox.json"),
                System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Record("bad"), StoreJsonContext.Default.SandboxRecord));
        }
        if (recordText is not null)
        {
            File.WriteAllText(Path.Combine(directory, "sandbox.json"), recordText);
        }

        var (complete, incomplete) = _store.LoadAll();

        Assert.True(complete.Count == 1 && complete[0].Record.Id == "good", name);
        Assert.Equal(["bad"], incomplete);
    }

    [Fact]
    public void Delete_SavedAndMissing_RemovesAndIgnores()
    {
        _store.Save("p1", Record("p1"), Config("one"));

        _store.Delete("p1");
        _store.Delete("never-saved");

        Assert.False(Directory.Exists(_store.PathOf("p1")));
        Assert.Empty(_store.LoadAll().Complete);
    }

    [Fact]
    public void Record_Serialized_UsesCamelCaseNames()
    {
        _store.Save("p1", Record("p1"), Config("one"));

        var json = File.ReadAllText(Path.Combine(_store.PathOf("p1"), "sandbox.json"));

        Assert.Contains("\"networkNamespace\"", json);
        Assert.DoesNotContain("\"ipcNamespace\"", json);
    }
}
