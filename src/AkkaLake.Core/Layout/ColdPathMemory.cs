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

    /// <summary>Records a configured cold path when it is new; whoever opens the lake to write calls it.</summary>
    public static void RememberConfigured(Configuration.LakeSettings settings)
    {
        if (settings.ColdPath is not { } cold || settings.ColdPathRemembered) return;
        var memory = new ColdPathMemory(settings.StatePath);
        if (memory.Recall() != cold)
            AtomicFile.WriteAllBytes(memory.FilePath, JsonSerializer.SerializeToUtf8Bytes(new Stored(cold), LakeJson.Options));
    }
}
