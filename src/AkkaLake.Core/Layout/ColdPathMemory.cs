using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Layout;

/// <summary>
/// The cold path a lake was last opened with, kept in <c>_state/cold-path.json</c>, so a command
/// run later without <c>--cold-path</c> finds the partitions the lake moved there.
/// </summary>
public sealed class ColdPathMemory(string statePath)
{
    public const string FileName = "cold-path.json";

    private sealed record Stored([property: JsonPropertyName("cold_path")] string ColdPath);

    public string FilePath { get; } = Path.Combine(statePath, FileName);

    /// <summary>The remembered cold path, or null when there is none or it cannot be read (the settings then decide alone).</summary>
    public string? Recall()
    {
        try
        {
            return File.Exists(FilePath) ? JsonSerializer.Deserialize<Stored>(File.ReadAllBytes(FilePath), LakeJson.Options)?.ColdPath : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Records the configured cold path when it is new; called by whoever opens the lake to write.</summary>
    public void Remember(string coldPath)
    {
        if (Recall() != coldPath)
            AtomicFile.WriteAllBytes(FilePath, JsonSerializer.SerializeToUtf8Bytes(new Stored(coldPath), LakeJson.Options));
    }
}
