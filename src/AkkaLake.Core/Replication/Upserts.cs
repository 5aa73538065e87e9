using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Replication;

/// <summary>
/// What placing a batch's older readings into committed files adds to and removes from its commit:
/// the files written anew with them, the files they replace, the versions they superseded, how
/// many of the batch's readings went into them and the oldest of those.
/// </summary>
public sealed record Rewrite(IReadOnlyList<StagedPart> Copies, IReadOnlyList<FileRemove> Removes, long SupersededRows, long PlacedRows, DateTimeOffset? OldestPlaced = null)
{
    public static readonly Rewrite None = new([], [], 0, 0);
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
/// Keeps one row per (sensor_id, ts), and each shard-day's files in time order, when a batch
/// carries readings older than the shard-day's newest data (the controller upserts readings in
/// place, and sensors send late): a reading whose key a committed file holds goes into that file,
/// written anew with it in the batch's commit, unless it is unchanged (then it is dropped); a new
/// reading older than the newest file's start goes into the file whose time range it falls in
/// (the one starting last at or before it). Readings after that are the batch's own part's. A
/// file is read only when a reading may be in it: inside the sensor's ts range in its footer, or
/// inside the file's ts range when the footer has none. So a re-sent reading costs the rewrite of
/// the file holding it, and a layout that keeps recent readings in small files keeps that cheap.
/// Holding corrections (<see cref="CorrectionHold"/>), every reading as old as the newest committed
/// row is left for a later batch, unread and uncounted but in <see cref="Held"/>: each is a reading
/// to place, or one the lake holds already.
/// </summary>
public sealed class Upserts(IReadOnlyList<CommittedPart> committed, int batchRows = 65_536, bool holdCorrections = false)
{
    private readonly List<CommittedPart> _byStart = [.. committed.OrderBy(p => p.File.MinTs)];
    // Readings after this need no look-up: no committed row is as late.
    private readonly long _latest = committed.Count == 0 ? long.MinValue : committed.Max(p => Timestamps.ToMicros(p.File.MaxTs));
    // Readings before this that are new to the lake go into the file their time falls in; the others are the part's.
    private readonly long _newestStart = committed.Count == 0 ? long.MinValue : committed.Max(p => Timestamps.ToMicros(p.File.MinTs));
    private readonly Dictionary<string, MetricRows> _placed = new(StringComparer.Ordinal);
    private long _oldestPlaced = long.MaxValue;
    private long _oldestHeld = long.MaxValue;

    /// <summary>New rows identical to committed ones, dropped.</summary>
    public long Unchanged { get; private set; }

    /// <summary>Committed rows a new version replaces.</summary>
    public long Superseded { get; private set; }

    /// <summary>The batch's rows placed into committed files.</summary>
    public long Placed { get; private set; }

    /// <summary>Readings left for a later batch (holding corrections).</summary>
    public long Held { get; private set; }

    /// <summary>The time of the oldest reading left for a later batch; null when none was.</summary>
    public DateTimeOffset? OldestHeld => Held > 0 ? Timestamps.FromMicros(_oldestHeld) : null;

    /// <summary>Committed files read in full to look for the batch's keys.</summary>
    public int FilesRead { get; private set; }

    public bool HasPlacements => _placed.Count > 0;

    /// <summary>The rows of <paramref name="sorted"/> that are the batch's own part's; records where the others go.</summary>
    public MetricRows Resolve(MetricRows sorted)
    {
        if (sorted.Count == 0 || committed.Count == 0 || Earliest(sorted) > _latest) return sorted;
        if (holdCorrections) return WithoutHeld(sorted);
        var holders = Holders(sorted);
        var toPart = new MetricRows(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
        {
            var ts = sorted.TsMicros[i];
            if (holders.TryGetValue(i, out var holder))
            {
                if (holder.Same)
                {
                    Unchanged++;
                    continue;
                }
                Superseded++;
                Place(holder.File, sorted, i);
            }
            else if (ts < _newestStart)
                Place(Covering(ts), sorted, i);
            else
                toPart.AddFrom(sorted, i);
        }
        return toPart;
    }

    private MetricRows WithoutHeld(MetricRows sorted)
    {
        var toPart = new MetricRows(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
            if (sorted.TsMicros[i] <= _latest)
            {
                Held++;
                _oldestHeld = Math.Min(_oldestHeld, sorted.TsMicros[i]);
            }
            else toPart.AddFrom(sorted, i);
        return toPart;
    }

    private static long Earliest(MetricRows rows)
    {
        var earliest = long.MaxValue;
        foreach (var t in rows.TsMicros) earliest = Math.Min(earliest, t);
        return earliest;
    }

    /// <summary>For each row whose key a committed file holds: that file, and whether the row is the same there.</summary>
    private Dictionary<int, (CommittedPart File, bool Same)> Holders(MetricRows sorted)
    {
        long min = long.MaxValue, max = long.MinValue;
        foreach (var t in sorted.TsMicros)
        {
            if (t > _latest) continue;
            if (t < min) min = t;
            if (t > max) max = t;
        }
        var holders = new Dictionary<int, (CommittedPart, bool)>();
        foreach (var part in committed)
        {
            if (Timestamps.ToMicros(part.File.MaxTs) < min || Timestamps.ToMicros(part.File.MinTs) > max) continue;
            using var reader = new PartReader(part.ReadablePath());
            var candidates = Candidates(sorted, part.File, reader.SensorRanges);
            if (candidates.Count == 0) continue;
            FilesRead++;
            foreach (var batch in reader.ReadBatches(batchRows))
                for (var i = 0; i < batch.Count; i++)
                    if (candidates.TryGetValue((batch.SensorIds[i], batch.TsMicros[i]), out var at))
                        holders[at] = (part, SameRow(batch, i, sorted, at));
        }
        return holders;
    }

    /// <summary>The committed file a new reading at <paramref name="ts"/> belongs in: the last to start at or before it, else the first.</summary>
    private CommittedPart Covering(long ts)
    {
        var covering = _byStart[0];
        foreach (var part in _byStart)
            if (Timestamps.ToMicros(part.File.MinTs) <= ts) covering = part;
        return covering;
    }

    private void Place(CommittedPart file, MetricRows rows, int i)
    {
        if (!_placed.TryGetValue(file.File.Name, out var placed)) _placed[file.File.Name] = placed = new MetricRows(16);
        placed.AddFrom(rows, i);
        Placed++;
        _oldestPlaced = Math.Min(_oldestPlaced, rows.TsMicros[i]);
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
    /// Writes each committed file that readings were placed into anew, its rows merged with them
    /// (a placed reading replaces the file's row of the same key), as a <c>.tmp</c> for the batch's
    /// commit, which swaps it for the original. A copy keeps the original's level and data version.
    /// </summary>
    public Rewrite RewritePlaced(ShardDay shardDay, LakeLocation location, string root, string runId, int rowGroupRows)
    {
        var copies = new List<StagedPart>();
        var removes = new List<FileRemove>();
        try
        {
            foreach (var part in committed)
            {
                if (!_placed.TryGetValue(part.File.Name, out var rows)) continue;
                removes.Add(new FileRemove(shardDay.Date, shardDay.Shard, part.File.Name));
                var name = LakeLayout.FileName(PartKind.Compaction, runId, copies.Count);
                var tmp = LakeLayout.Resolve(root, LakeLayout.FilePath(shardDay.Date, shardDay.Shard, name)) + AtomicFile.TmpSuffix;
                var metadata = new PartMetadata(runId, CommitKind.Compaction, part.File.CursorFrom, part.File.CursorTo, [part.File.Name]);
                var written = WriteWith(part, MetricRows.Sorted([rows]), tmp, metadata, rowGroupRows);
                copies.Add(new StagedPart(shardDay.Date, shardDay.Shard, location, name, written, metadata, part.File.Level, part.File.Version));
            }
            return new Rewrite(copies, removes, Superseded, Placed, Placed > 0 ? Timestamps.FromMicros(_oldestPlaced) : null);
        }
        catch
        {
            foreach (var copy in copies) AtomicFile.DeleteQuietly(copy.Written.TmpPath);
            throw;
        }
    }

    private WrittenPart WriteWith(CommittedPart part, MetricRows placed, string tmp, PartMetadata metadata, int rowGroupRows)
    {
        try
        {
            using var reader = new PartReader(part.ReadablePath());
            using var writer = new PartWriter(tmp, metadata, rowGroupRows);
            var tally = new Merging.MergeTally();
            foreach (var chunk in Merging.SortedMerge.Merge([new Merging.MergeInput(reader.ReadBatches(batchRows), 0), new Merging.MergeInput([placed], 1)], batchRows, newestOnly: true, tally))
                writer.Append(chunk);
            var written = writer.Finish();
            // Every row of the file is in the copy or was replaced, and every reading placed is in it.
            if (written.Rows != part.File.Rows + placed.Count - tally.Superseded)
                throw new InvalidDataException(
                    $"The copy of {part.File.Name} holds {written.Rows:N0} rows, not its {part.File.Rows:N0} with {placed.Count:N0} readings placed and {tally.Superseded:N0} replaced.");
            return written;
        }
        catch
        {
            AtomicFile.DeleteQuietly(tmp);
            throw;
        }
    }
}
