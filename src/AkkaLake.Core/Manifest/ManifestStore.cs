using System.Text.Json;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Manifest;

/// <summary>A manifest that exists but cannot be trusted. It is never overwritten automatically.</summary>
public sealed class ManifestUnreadableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Loads and atomically saves <c>_state/manifest.json</c>.</summary>
public sealed class ManifestStore(string statePath)
{
    public const string FileName = "manifest.json";

    /// <summary>The manifest of the lake the settings name, for a command that reads it; a clear error when there is no lake there.</summary>
    public static LakeManifest LoadLake(LakeSettings settings) =>
        new ManifestStore(settings.StatePath).Load() ?? throw new InvalidOperationException($"There is no lake at {settings.HotPath}.");

    public string StatePath { get; } = statePath;

    public string FilePath { get; } = Path.Combine(statePath, FileName);

    public bool Exists => File.Exists(FilePath);

    /// <summary>The manifest, or null when the lake has none yet.</summary>
    public LakeManifest? Load()
    {
        if (!Exists) return null;
        var bytes = File.ReadAllBytes(FilePath);
        return Parse(bytes, FilePath);
    }

    /// <summary>Streamed into its file: a manifest of tens of thousands of files is written on every commit, and is never held as one large buffer.</summary>
    public void Save(LakeManifest manifest) =>
        AtomicFile.Write(FilePath, stream => JsonSerializer.Serialize(stream, manifest, LakeJson.Options));

    public static LakeManifest Parse(byte[] bytes, string source)
    {
        LakeManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<LakeManifest>(bytes, LakeJson.Options);
        }
        catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or ArgumentException)
        {
            throw Refusal(bytes, source,
                $"The manifest {source} cannot be read ({e.Message}). It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.", e);
        }
        if (manifest is null)
            throw Refusal(bytes, source, $"The manifest {source} is empty (null). It was left untouched.");
        if (manifest.SchemaVersion == 0 && manifest.CommitSeq == 0 && manifest.Datasets is null or { Count: 0 })
            throw Refusal(bytes, source,
                $"The manifest {source} is not an AkkaLake manifest (no schema_version, no datasets). It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.");
        if (manifest.SchemaVersion != LakeManifest.CurrentSchemaVersion)
            throw Refusal(bytes, source,
                $"The manifest {source} has schema_version {manifest.SchemaVersion}; this AkkaLake understands {LakeManifest.CurrentSchemaVersion}. It was left untouched.");
        if (manifest.Shards is < 1 or > 100)
            throw Refusal(bytes, source, $"The manifest {source} records {manifest.Shards} shards, which is not 1..100. It was left untouched.");
        if (ManifestShape.Problem(manifest) is { } problem)
            throw Refusal(bytes, source,
                $"The manifest {source} is damaged: {problem}. It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.");
        return manifest;
    }

    /// <summary>
    /// Why a manifest is refused. The first implementation's manifest fails the checks above (it
    /// records no shards), so it is looked for only then, not on every load.
    /// </summary>
    private static ManifestUnreadableException Refusal(byte[] bytes, string source, string otherwise, Exception? inner = null) =>
        Takeover.FirstImplementationLake.TryParse(bytes) is not null
            ? new ManifestUnreadableException(
                $"The manifest {source} was written by the controller's first implementation. 'akkalake run' (or 'run --once') takes that lake over; see \"Running beside the controller\" in the README. It was left untouched.")
            : new ManifestUnreadableException(otherwise, inner);
}
