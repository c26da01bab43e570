using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CriOci.Core;
using Google.Protobuf;

namespace CriOci.PodSandbox.Storage;

/// <summary>
/// One directory per object under a persistent root: a JSON record and the CRI config as
/// protobuf, each written atomically. The JSON is written last: its presence means the
/// object exists, so a crash between the two leaves nothing that looks complete.
/// </summary>
internal sealed class RecordDirectory<TRecord, TConfig>(string root, string recordFileName, JsonTypeInfo<TRecord> recordType, MessageParser<TConfig> configParser)
    where TRecord : class
    where TConfig : IMessage<TConfig>
{
    public string Root { get; } = root;

    public string PathOf(string id) => Path.Combine(Root, id);

    public void Save(string id, TRecord record, TConfig config)
    {
        var directory = PathOf(id);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(Path.Combine(directory, "config.pb"), config.ToByteArray());
        SaveRecord(id, record);
    }

    public void SaveRecord(string id, TRecord record) =>
        AtomicFile.WriteAllBytes(Path.Combine(PathOf(id), recordFileName), JsonSerializer.SerializeToUtf8Bytes(record, recordType));

    /// <summary>
    /// <see cref="Save"/> for a caller with slower work to overlap with the disk's: the config is
    /// renamed into place and the record's bytes are fsynced now, and the record, which says the
    /// object exists, appears only when the caller commits the returned file (one rename and one
    /// directory fsync, which makes the config's rename durable too). Disposed uncommitted, it
    /// leaves a directory without a record: incomplete, as <see cref="LoadAll"/> reports it.
    /// </summary>
    public StagedFile StageSave(string id, TRecord record, TConfig config)
    {
        var directory = PathOf(id);
        Directory.CreateDirectory(directory);
        using (var staged = StagedFile.Stage(Path.Combine(directory, "config.pb"), config.ToByteArray()))
        {
            staged.Commit(syncDirectory: false);
        }
        return StagedFile.Stage(Path.Combine(directory, recordFileName), JsonSerializer.SerializeToUtf8Bytes(record, recordType));
    }

    /// <summary>
    /// <see cref="SaveRecord"/> without the directory fsync: the new record replaces the old
    /// atomically for every reader and for a daemon killed at any moment, but a power loss may
    /// bring the old one back. Only for updates that a reboot makes moot anyway (a container's
    /// start time: the reboot has ended it).
    /// </summary>
    public void ReplaceRecordUntilReboot(string id, TRecord record)
    {
        using var staged = StagedFile.Stage(Path.Combine(PathOf(id), recordFileName), JsonSerializer.SerializeToUtf8Bytes(record, recordType));
        staged.Commit(syncDirectory: false);
    }

    /// <summary>Every complete (record and config present) object on disk; incomplete ones are returned separately for clean-up.</summary>
    public (List<(TRecord Record, TConfig Config)> Complete, List<string> Incomplete) LoadAll()
    {
        var complete = new List<(TRecord, TConfig)>();
        var incomplete = new List<string>();
        if (!Directory.Exists(Root))
        {
            return (complete, incomplete);
        }
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            var id = Path.GetFileName(directory);
            try
            {
                var record = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, recordFileName)), recordType);
                var config = configParser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, "config.pb")));
                if (record is null)
                {
                    incomplete.Add(id);
                    continue;
                }
                complete.Add((record, config));
            }
            catch (Exception exception) when (exception is IOException or JsonException or InvalidProtocolBufferException)
            {
                incomplete.Add(id);
            }
        }
        return (complete, incomplete);
    }

    public void Delete(string id)
    {
        var directory = PathOf(id);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
