using System.Text.Json;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.State;

/// <summary>
/// When each day was last checked against PostgreSQL (<c>_state/reconcile.json</c>), so a
/// restarted daemon carries on with its schedule instead of checking every day again at once.
/// </summary>
public sealed class ReconcileStateStore(string statePath)
{
    public const string FileName = "reconcile.json";

    public string FilePath { get; } = Path.Combine(statePath, FileName);

    /// <summary>The last checks recorded; none when the file is missing or unreadable (the days are then checked again).</summary>
    public Dictionary<DateOnly, DateTimeOffset> Load()
    {
        try
        {
            if (!File.Exists(FilePath)) return [];
            var stored = JsonSerializer.Deserialize<Dictionary<string, DateTimeOffset>>(File.ReadAllBytes(FilePath), LakeJson.Options) ?? [];
            return stored.Where(kv => LakeLayout.TryParseDateKey(kv.Key) is not null)
                .ToDictionary(kv => LakeLayout.ParseDateKey(kv.Key), kv => kv.Value);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Save(IReadOnlyDictionary<DateOnly, DateTimeOffset> lastChecked) =>
        AtomicFile.WriteAllBytes(FilePath, JsonSerializer.SerializeToUtf8Bytes(
            new SortedDictionary<string, DateTimeOffset>(lastChecked.ToDictionary(kv => LakeLayout.DateKey(kv.Key), kv => kv.Value), StringComparer.Ordinal),
            LakeJson.Options));
}
