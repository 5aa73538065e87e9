using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Replication;

/// <summary>What replacing superseded keys adds to and removes from a batch's commit.</summary>
public sealed record Rewrite(IReadOnlyList<StagedPart> Copies, IReadOnlyList<FileRemove> Removes, long SupersededRows)
{
    public static readonly Rewrite None = new([], [], 0);
}

/// <summary>A committed file of the shard-day a writer owns, with where it lives.</summary>
public sealed record CommittedPart(PartFile File, string Path)
{
    /// <summary>
    /// Where the file can be read: a commit since the caller's snapshot (a compaction) may have
    /// renamed it to its superseded name, which holds the same rows. Once it is deleted its rows
    /// cannot be read, so the caller's work must be planned again.
    /// </summary>
    public string ReadablePath()
    {
        if (System.IO.File.Exists(Path)) return Path;
        var superseded = LakeLayout.SupersededPath(Path);
        if (System.IO.File.Exists(superseded)) return superseded;
        throw new ManifestConflictException($"{File.Name} was replaced and deleted meanwhile; the work will be planned again.");
    }
}

/// <summary>
/// Keeps one row per (sensor_id, ts) when a batch carries readings the lake already holds (the
/// controller upserts readings in place): a new row equal to the committed one is dropped, and a
/// committed file holding an older version of a key is rewritten without it in the batch's commit.
/// A file is read only when a new row may fall inside it: inside the sensor's ts range in its
/// footer, or inside the file's ts range when the footer has none.
/// </summary>
public sealed class Upserts(IReadOnlyList<CommittedPart> committed, int batchRows = 65_536)
{
    private readonly Dictionary<string, HashSet<(string SensorId, long Ts)>> _superseded = new(StringComparer.Ordinal);

    /// <summary>New rows identical to committed ones, dropped.</summary>
    public long Unchanged { get; private set; }

    /// <summary>Committed files read in full to look for the batch's keys.</summary>
    public int FilesRead { get; private set; }

    public bool HasSuperseded => _superseded.Count > 0;

    /// <summary>The rows of <paramref name="sorted"/> still to be written; records the committed keys they replace.</summary>
    public MetricRows Resolve(MetricRows sorted)
    {
        if (sorted.Count == 0 || committed.Count == 0) return sorted;
        long min = long.MaxValue, max = long.MinValue;
        foreach (var t in sorted.TsMicros)
        {
            if (t < min) min = t;
            if (t > max) max = t;
        }
        bool[]? drop = null;
        foreach (var part in committed)
        {
            if (Timestamps.ToMicros(part.File.MaxTs) < min || Timestamps.ToMicros(part.File.MinTs) > max) continue;
            using var reader = new PartReader(part.ReadablePath());
            var candidates = Candidates(sorted, part.File, reader.SensorRanges);
            if (candidates.Count == 0) continue;
            FilesRead++;
            foreach (var batch in reader.ReadBatches(batchRows))
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!candidates.TryGetValue((batch.SensorIds[i], batch.TsMicros[i]), out var at)) continue;
                    if (SameRow(batch, i, sorted, at))
                    {
                        drop ??= new bool[sorted.Count];
                        if (!drop[at]) Unchanged++;
                        drop[at] = true;
                    }
                    else
                    {
                        if (!_superseded.TryGetValue(part.File.Name, out var keys)) _superseded[part.File.Name] = keys = [];
                        keys.Add((batch.SensorIds[i], batch.TsMicros[i]));
                    }
                }
        }
        if (drop is null) return sorted;
        var kept = new MetricRows(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
            if (!drop[i]) kept.AddFrom(sorted, i);
        return kept;
    }

    private static Dictionary<(string, long), int> Candidates(MetricRows rows, PartFile file, SensorRanges? ranges)
    {
        var (min, max) = (Timestamps.ToMicros(file.MinTs), Timestamps.ToMicros(file.MaxTs));
        var candidates = new Dictionary<(string, long), int>();
        for (var i = 0; i < rows.Count; i++)
        {
            var ts = rows.TsMicros[i];
            if (ts < min || ts > max) continue;
            if (ranges is not null && !ranges.MayHold(rows.SensorIds[i], ts)) continue;
            candidates[(rows.SensorIds[i], ts)] = i;
        }
        return candidates;
    }

    private static bool SameRow(MetricRows a, int i, MetricRows b, int j) =>
        a.Values[i].Equals(b.Values[j]) && a.Quality[i] == b.Quality[j] && a.Samples[i] == b.Samples[j] &&
        string.Equals(a.Source[i], b.Source[j], StringComparison.Ordinal);

    /// <summary>
    /// Writes each committed file that holds a replaced key again without those keys, as a
    /// <c>.tmp</c> for the batch's commit, which swaps it for the original (a file left with no
    /// rows is only removed). A copy keeps the original's level and data version.
    /// </summary>
    public Rewrite RewriteSuperseded(ShardDay shardDay, LakeLocation location, string root, string runId, int rowGroupRows)
    {
        var copies = new List<StagedPart>();
        var removes = new List<FileRemove>();
        try
        {
            foreach (var part in committed)
            {
                if (!_superseded.TryGetValue(part.File.Name, out var keys)) continue;
                removes.Add(new FileRemove(shardDay.Date, shardDay.Shard, part.File.Name));
                var name = LakeLayout.FileName(PartKind.Compaction, runId, copies.Count);
                var tmp = LakeLayout.Resolve(root, LakeLayout.FilePath(shardDay.Date, shardDay.Shard, name)) + AtomicFile.TmpSuffix;
                var metadata = new PartMetadata(runId, CommitKind.Compaction, part.File.CursorFrom, part.File.CursorTo, [part.File.Name]);
                var written = WriteWithout(part, keys, tmp, metadata, rowGroupRows);
                if (written.Rows == 0)
                    AtomicFile.DeleteQuietly(tmp);
                else
                    copies.Add(new StagedPart(shardDay.Date, shardDay.Shard, location, name, written, metadata, part.File.Level, part.File.Version));
            }
            return new Rewrite(copies, removes, _superseded.Values.Sum(k => (long)k.Count));
        }
        catch
        {
            foreach (var copy in copies) AtomicFile.DeleteQuietly(copy.Written.TmpPath);
            throw;
        }
    }

    private WrittenPart WriteWithout(CommittedPart part, HashSet<(string, long)> keys, string tmp, PartMetadata metadata, int rowGroupRows)
    {
        try
        {
            using var reader = new PartReader(part.ReadablePath());
            using var writer = new PartWriter(tmp, metadata, rowGroupRows);
            long dropped = 0;
            foreach (var batch in reader.ReadBatches(batchRows))
            {
                var kept = new MetricRows(batch.Count);
                for (var i = 0; i < batch.Count; i++)
                    if (!keys.Contains((batch.SensorIds[i], batch.TsMicros[i]))) kept.AddFrom(batch, i);
                dropped += batch.Count - kept.Count;
                writer.Append(kept);
            }
            var written = writer.Finish();
            // Every row of the file is in the copy or was a replaced reading (an adopted file may hold a key twice).
            if (written.Rows + dropped != part.File.Rows || dropped < keys.Count)
                throw new InvalidDataException(
                    $"The copy of {part.File.Name} holds {written.Rows:N0} rows and left out {dropped:N0} for {keys.Count:N0} replaced readings, but the file holds {part.File.Rows:N0}.");
            return written;
        }
        catch
        {
            AtomicFile.DeleteQuietly(tmp);
            throw;
        }
    }
}
