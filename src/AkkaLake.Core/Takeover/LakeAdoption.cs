using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using ParquetSharp;

namespace AkkaLake.Core.Takeover;

/// <summary>What adopting the first implementation's lake found.</summary>
public sealed record AdoptionReport(int Partitions, int Files, long Rows, DateTimeOffset Watermark, IReadOnlyList<string> KeptAs);

/// <summary>A lake the takeover cannot adopt as it is configured; nothing was changed.</summary>
public sealed class AdoptionRefusedException(string message) : Exception(message);

/// <summary>
/// The first step of taking over a lake the controller's first implementation wrote. Its
/// manifest and <c>replication.json</c> are kept beside AkkaLake's as <c>*.first-implementation.json</c>;
/// then one atomic manifest write adopts every <c>*.parquet</c> in its partition directories
/// as they are (the directory listing the controller reads does not change), takes its watermark
/// as the incremental cursor, and lists every day for the takeover to rebuild. A crash before that
/// write leaves the old manifest, and the next start adopts again.
/// </summary>
public sealed class LakeAdoption(ManifestStore store, LakeRoots roots)
{
    public const string KeptSuffix = ".first-implementation.json";

    /// <summary>The lake's manifest, adopting the first implementation's lake first if that is what is there; null when there is none.</summary>
    public (LakeManifest? Manifest, AdoptionReport? Adopted) LoadOrAdopt(int shards, DateTimeOffset now)
    {
        if (!store.Exists) return (null, null);
        var bytes = File.ReadAllBytes(store.FilePath);
        return FirstImplementationLake.TryParse(bytes) is { } legacy
            ? Adopt(bytes, legacy, shards, now)
            : (store.Load(), null);
    }

    public (LakeManifest Manifest, AdoptionReport Report) Adopt(byte[] legacyManifest, FirstImplementationLake legacy, int shards, DateTimeOffset now)
    {
        var watermark = legacy.Watermark ?? throw new AdoptionRefusedException(
            $"The lake at {roots.Hot} was written by the controller's first implementation but its manifest has no computed_through_ts, so it cannot be continued. Move it aside and let AkkaLake build a new lake there.");
        var adds = new List<FileAdd>();
        foreach (var (date, location) in Partitions(legacy))
        {
            var root = roots.RootOf(location);
            var dateDir = LakeLayout.Resolve(root, LakeLayout.PartitionDirectory(date));
            foreach (var shardDir in Directory.EnumerateDirectories(dateDir).Order(StringComparer.Ordinal))
            {
                if (LakeLayout.ParseShardDirectory(Path.GetFileName(dateDir), Path.GetFileName(shardDir)) is not { } key) continue;
                if (key.Shard >= shards)
                    throw new AdoptionRefusedException($"The lake at {root} has {shardDir} but CORE_ANALYSIS_LAKE_SHARDS is {shards}: set it to the shard count the lake was written with.");
                foreach (var file in Directory.EnumerateFiles(shardDir, "*" + LakeLayout.ParquetSuffix).Order(StringComparer.Ordinal))
                    adds.Add(new FileAdd(date, key.Shard, location, Adopted(file, date, watermark)));
            }
        }

        // The first implementation's files are there, so the NAS is mounted: mark it as this lake's cold path.
        if (adds.Any(a => a.Location == LakeLocation.Cold))
            ColdMarker.Ensure(LakeManifest.Create(shards, now), roots.Cold!);

        var kept = new List<string> { KeptPath(store.FilePath) };
        AtomicFile.WriteAllBytes(kept[0], legacyManifest);
        var replication = new ReplicationStateStore(store.StatePath).FilePath;
        if (File.Exists(replication))
        {
            kept.Add(KeptPath(replication));
            AtomicFile.WriteAllBytes(kept[1], File.ReadAllBytes(replication));
        }

        var days = adds.Select(a => LakeLayout.DateKey(a.Date)).ToImmutableSortedSet(StringComparer.Ordinal);
        var backfill = new BackfillState(watermark, days.Min ?? LakeLayout.DateKey(DateOnly.FromDateTime(now.UtcDateTime)),
            days.Max ?? LakeLayout.DateKey(DateOnly.FromDateTime(now.UtcDateTime)), [], now, now);
        var takeover = new TakeoverState(now, watermark, days.Count, days, days.Count == 0 ? now : null);
        var manifest = LakeManifest.Create(shards, now)
            .Apply(new LakeCommit(CommitKind.Takeover, TakeoverState.FirstImplementationRunId, [.. adds], [], watermark, backfill, takeover), now, now);
        store.Save(manifest);
        return (manifest, new AdoptionReport(days.Count, adds.Count, adds.Sum(a => a.File.Rows), watermark, kept));
    }

    /// <summary>Where a state file of the first implementation is kept.</summary>
    public static string KeptPath(string stateFile) => Path.ChangeExtension(stateFile, null) + KeptSuffix;

    /// <summary>
    /// Each date the controller reads: the manifest's location where it names one, otherwise where
    /// its directory is (hot first, as the controller looks).
    /// </summary>
    private IEnumerable<(DateOnly Date, LakeLocation Location)> Partitions(FirstImplementationLake legacy)
    {
        var found = new SortedDictionary<DateOnly, LakeLocation>();
        foreach (var (location, root) in roots.Configured().Reverse())
        {
            var datasetDir = LakeLayout.Resolve(root, LakeLayout.Dataset);
            if (!Directory.Exists(datasetDir)) continue;
            foreach (var dir in Directory.EnumerateDirectories(datasetDir))
                if (LakeLayout.ParseDateDirectory(Path.GetFileName(dir)) is { } date)
                    found[date] = location;
        }
        foreach (var (dateKey, name) in legacy.Locations)
        {
            if (!LakeLocation.TryParse(name, out var location)) continue;
            if (location == LakeLocation.Cold && roots.Cold is null)
                throw new AdoptionRefusedException($"The first implementation's manifest puts {dateKey} on the cold path, but none is configured: set CORE_ANALYSIS_LAKE_COLD_PATH to it.");
            var date = LakeLayout.ParseDateKey(dateKey);
            if (Directory.Exists(LakeLayout.Resolve(roots.RootOf(location), LakeLayout.PartitionDirectory(date))))
                found[date] = location;
        }
        return found.Select(kv => (kv.Key, kv.Value));
    }

    private static PartFile Adopted(string path, DateOnly date, DateTimeOffset watermark)
    {
        long rows;
        try
        {
            using var reader = new ParquetFileReader(path);
            rows = reader.FileMetaData.NumRows;
        }
        catch (ParquetException e)
        {
            throw new AdoptionRefusedException($"{path} is not a readable Parquet file ({e.Message}); the controller cannot read it either. Move it out of the lake and start again.");
        }
        // Its rows lie within its UTC day; the takeover rebuilds the day before anything reads the file's keys.
        var start = LakeLayout.DayStart(date);
        return new PartFile(Path.GetFileName(path), rows, new FileInfo(path).Length, start, start.AddDays(1).AddTicks(-10), null, watermark, 0,
            TakeoverState.FirstImplementationRunId, PartFile.FinalLevel);
    }
}
