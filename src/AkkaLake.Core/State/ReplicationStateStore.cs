using System.Text.Json;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.State;

public sealed class ReplicationStateStore(string statePath)
{
    public const string FileName = "replication.json";

    public string FilePath { get; } = Path.Combine(statePath, FileName);

    /// <summary>The last state written, or null when there is none or it cannot be read (it is only a mirror).</summary>
    public ReplicationState? Load()
    {
        if (!File.Exists(FilePath)) return null;
        try
        {
            return JsonSerializer.Deserialize<ReplicationState>(File.ReadAllBytes(FilePath), LakeJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(ReplicationState state) =>
        AtomicFile.WriteAllBytes(FilePath, JsonSerializer.SerializeToUtf8Bytes(state, LakeJson.Options));
}
