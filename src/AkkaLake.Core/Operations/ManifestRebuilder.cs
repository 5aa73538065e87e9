using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Operations;

/// <summary>What a rebuild found.</summary>
public sealed record RebuildReport(int Files, int SkippedSuperseded, IReadOnlyList<string> Unreadable, DateTimeOffset? Watermark);

/// <summary>
/// Rebuilds a lost or corrupt manifest from the part files' footers and metadata. A file is left
/// out when another file supersedes it: a compaction output names its inputs; a backfilled file
/// covers every file of its shard-day whose cursor range ends at or before its own; a
/// partition present in both locations (a move inside its grace period) is taken from cold.
/// The watermark is the newest cursor end among the files.
/// </summary>
public sealed class ManifestRebuilder(LakeRoots roots)
{
    private sealed record Found(LakeLocation Location, DateOnly Date, int Shard, string Name, PartMetadata Meta, long Rows, long Bytes, long MinTs, long MaxTs);

    /// <summary>Newer data last: by the end of the inserted_at range a file covers, then by run.</summary>
    private static (DateTimeOffset, string, string) Newness(Found f) => (f.Meta.CursorTo ?? DateTimeOffset.MinValue, f.Meta.RunId, f.Name);

    public (LakeManifest Manifest, RebuildReport Report) Rebuild(int shards, DateTimeOffset now)
    {
        var unreadable = new List<string>();
        var found = new List<Found>();
        foreach (var (location, root) in roots.Configured())
        {
            var dir = LakeLayout.Resolve(root, LakeLayout.Dataset);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*" + LakeLayout.ParquetSuffix, SearchOption.AllDirectories))
            {
                var name = Path.GetFileName(file);
                var shardDir = Path.GetDirectoryName(file)!;
                if (!LakeLayout.IsPartFileName(name) || LakeLayout.ParseShardDirectory(Path.GetFileName(Path.GetDirectoryName(shardDir)!), Path.GetFileName(shardDir)) is not { } key)
                    continue;
                try
                {
                    using var reader = new PartReader(file);
                    var meta = reader.Metadata ?? throw new InvalidDataException("no AkkaLake metadata");
                    long min = long.MaxValue, max = long.MinValue;
                    foreach (var batch in reader.ReadBatches(65_536))
                        foreach (var ts in batch.TsMicros)
                        {
                            min = Math.Min(min, ts);
                            max = Math.Max(max, ts);
                        }
                    found.Add(new Found(location, key.Date, key.Shard, name, meta, reader.RowCount, new FileInfo(file).Length, min, max));
                }
                catch (Exception e) when (e is ParquetSharp.ParquetException or InvalidDataException or IOException)
                {
                    unreadable.Add($"{location}:{Path.GetRelativePath(root, file)} ({e.Message})");
                }
            }
        }

        // One location per date: cold wins where a move left both copies.
        var locationOf = found.GroupBy(f => f.Date).ToDictionary(g => g.Key, g => g.Any(f => f.Location == LakeLocation.Cold) ? LakeLocation.Cold : LakeLocation.Hot);
        var candidates = found.Where(f => f.Location == locationOf[f.Date]).ToList();
        var kept = new List<Found>();
        foreach (var shardDay in candidates.GroupBy(f => (f.Date, f.Shard)))
        {
            var files = shardDay.OrderBy(Newness).ToList();
            var replaced = files.SelectMany(f => f.Meta.Inputs ?? []).ToHashSet(StringComparer.Ordinal);
            var backfills = files.Where(f => f.Meta.Kind == CommitKind.Backfill && f.Meta.CursorTo is not null).ToList();
            for (var i = 0; i < files.Count; i++)
            {
                var f = files[i];
                if (replaced.Contains(f.Name)) continue;
                // A backfilled file holds every row of its day inserted up to its cursor, whenever it was written.
                var covered = f.Meta.CursorTo is { } end && backfills.Any(b => b != f &&
                    (end < b.Meta.CursorTo || (end == b.Meta.CursorTo && (f.Meta.Kind != CommitKind.Backfill || files.IndexOf(b) > i))));
                if (!covered) kept.Add(f);
            }
        }

        var manifest = LakeManifest.Create(shards, now);
        var version = 0L;
        var adds = kept
            .OrderBy(Newness)
            .Select(f => new FileAdd(f.Date, f.Shard, f.Location, new PartFile(f.Name, f.Rows, f.Bytes,
                Timestamps.FromMicros(f.MinTs), Timestamps.FromMicros(f.MaxTs), f.Meta.CursorFrom, f.Meta.CursorTo, 0, f.Meta.RunId,
                f.Meta.Kind == CommitKind.Replication ? 0 : PartFile.FinalLevel, ++version)))
            .ToImmutableList();
        var watermark = kept.Select(f => f.Meta.CursorTo).Max();
        var backfill = watermark is { } w
            ? new BackfillState(w, kept.Min(f => LakeLayout.DateKey(f.Date))!, kept.Max(f => LakeLayout.DateKey(f.Date))!, [], now, now)
            : null;
        manifest = manifest.Apply(new LakeCommit(CommitKind.Rebuild, "rebuild", adds, [], watermark, backfill), now, now);
        return (manifest, new RebuildReport(kept.Count, candidates.Count - kept.Count, unreadable, watermark));
    }
}
