using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;

namespace AkkaLake.Core.Replication;

/// <summary>The next thing replication should export.</summary>
public abstract record ReplicationStep
{
    /// <summary>
    /// One day of the first-start backfill, or with <see cref="FirstDay"/> every day it has left,
    /// <see cref="FirstDay"/> through <see cref="Day"/>, read in one pass. <see cref="After"/> is the
    /// backfill state once this step is committed. <see cref="EmptyDaysBefore"/> older days are known
    /// to be empty and recorded with it.
    /// </summary>
    public sealed record Backfill(BackfillState After, DateOnly Day, bool OpenEnded, bool IsLast, int EmptyDaysBefore = 0, DateOnly? FirstDay = null) : ReplicationStep
    {
        public SourceWindow.BackfillDays Window => new(FirstDay ?? Day, Day, OpenEnded, After.Cursor);
    }

    /// <summary>
    /// Rows inserted in (After, Bound.Through], After the watermark. Holding corrections
    /// (<see cref="CorrectionHold"/>), it leaves readings whose time falls in committed files for a
    /// later batch, and reads only rows after <see cref="ReadFrom"/> when earlier batches read up to there.
    /// </summary>
    public sealed record Incremental(DateTimeOffset After, CursorBound Bound, DateTimeOffset? ReadFrom = null, bool HoldsCorrections = false) : ReplicationStep
    {
        public SourceWindow.Inserted Window => new(ReadFrom ?? After, Bound.Through);
    }

    /// <summary>
    /// A day rebuilt by hand (<c>akkalake backfill</c>) or by a takeover: rows of that day inserted
    /// up to <see cref="Cursor"/> (the watermark) or NULL, replacing the files whose cursor range
    /// that covers. <see cref="TakeoverAfter"/> is the takeover's progress once it is committed.
    /// </summary>
    public sealed record Rebuild(DateOnly Day, LakeLocation Location, DateTimeOffset Cursor, ImmutableList<FileRemove> Replaces, TakeoverState? TakeoverAfter = null) : ReplicationStep
    {
        public SourceWindow.BackfillDays Window => SourceWindow.BackfillDays.Day(Day, false, Cursor);
    }

    /// <summary>Nothing new can be exported yet (the bound is at the watermark).</summary>
    public sealed record UpToDate(DateTimeOffset Watermark, CursorBound Bound) : ReplicationStep;

    /// <summary>The rows the step exports.</summary>
    public SourceWindow ExportWindow => this switch
    {
        Backfill b => b.Window,
        Incremental i => i.Window,
        Rebuild r => r.Window,
        _ => throw new InvalidOperationException($"{GetType().Name} exports nothing."),
    };

    /// <summary>Whole days are written at the final level; incremental parts wait for compaction.</summary>
    public PartKind PartKind => this is Incremental ? PartKind.Incremental : PartKind.Backfill;

    /// <summary>The kind of the step's commit, in its part files' metadata and the run report.</summary>
    public CommitKind CommitKind => this is Incremental ? CommitKind.Replication : CommitKind.Backfill;

    /// <summary>
    /// The inserted_at range the step's files cover: (From, To], From null for a whole day. A batch
    /// holding corrections may leave the watermark where it is, so its files claim no more than that:
    /// a rebuild at the watermark replaces them, and a manifest rebuilt from the files reads them again.
    /// </summary>
    public (DateTimeOffset? From, DateTimeOffset? To) CursorRange => this switch
    {
        Backfill b => (null, b.After.Cursor),
        Incremental { HoldsCorrections: true } i => (i.After, i.After),
        Incremental i => (i.After, i.Bound.Through),
        Rebuild r => (null, r.Cursor),
        _ => (null, null),
    };

    /// <summary>Reads whole days (a backfill day or a rebuild), as opposed to an incremental batch.</summary>
    public bool IsDay => this is Backfill or Rebuild;
}

/// <summary>
/// Decides the next step from the manifest and the database clock. An empty lake starts a
/// backfill of the hot horizon by ts, newest day first, of rows inserted up to a cursor W
/// (or with no inserted_at); once every day is committed the watermark becomes W and
/// incremental batches take over from there.
/// </summary>
public static class ReplicationPlanner
{
    /// <param name="noRowsBefore">
    /// Days before this date are known to hold no rows; the backfill records them all with the
    /// first of them instead of scanning each (a lake set up with a 90-day horizon over a few days of history).
    /// </param>
    /// <param name="firstDay">
    /// Where an empty lake's first backfill starts (<c>akkalake backfill</c> on an empty lake);
    /// by default the hot horizon. It always ends today: rows of later days inserted up to its
    /// cursor would otherwise never be replicated.
    /// </param>
    /// <param name="inOnePass">The backfill's days left are read in one step (see <see cref="BackfillPass"/>).</param>
    public static ReplicationStep Next(LakeManifest manifest, DatabaseClock clock, TimeSpan lag, int retentionDays, DateTimeOffset now, DateOnly noRowsBefore = default, DateOnly? firstDay = null, bool inOnePass = false)
    {
        var dataset = manifest.Metrics;
        var backfill = dataset.Backfill;
        if (!dataset.FirstBackfillDone && backfill is null)
        {
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            var cursor = CursorBounds.Compute(clock, lag, DateTimeOffset.MinValue).Through;
            backfill = new BackfillState(cursor, LakeLayout.DateKey(BackfillFrom(manifest, retentionDays, today, firstDay)!.Value), LakeLayout.DateKey(today), [], now, null);
        }

        if (backfill is { CompletedAt: null })
        {
            var from = LakeLayout.ParseDateKey(backfill.FromDate);
            var to = LakeLayout.ParseDateKey(backfill.ToDate);
            if (inOnePass && OnePass(backfill, from, to, now) is { } pass) return pass;
            for (var day = to; day >= from; day = day.AddDays(-1))
            {
                var key = LakeLayout.DateKey(day);
                if (backfill.DaysDone.Contains(key)) continue;
                var emptyBefore = day < noRowsBefore ? Days(from, day.AddDays(-1)).Count(d => !backfill.DaysDone.Contains(d)) : 0;
                var done = day < noRowsBefore
                    ? backfill.DaysDone.Union(Days(from, day))
                    : backfill.DaysDone.Add(key);
                var isLast = done.Count == backfill.TotalDays();
                var after = backfill with { DaysDone = done, CompletedAt = isLast ? now : null };
                return new ReplicationStep.Backfill(after, day, day == to, isLast, emptyBefore);
            }
        }

        if (dataset.Takeover is { CompletedAt: null } takeover && dataset.ComputedThroughTs is { } takeoverCursor)
            return TakeoverDay(manifest, takeover, takeoverCursor, now);

        var watermark = dataset.ComputedThroughTs ?? backfill!.Cursor;
        var bound = CursorBounds.Compute(clock, lag, watermark);
        return bound.Through > watermark
            ? new ReplicationStep.Incremental(watermark, bound)
            : new ReplicationStep.UpToDate(watermark, bound);
    }

    /// <summary>The first day of the first backfill, when it is not complete; null after it.</summary>
    public static DateOnly? BackfillFrom(LakeManifest manifest, int retentionDays, DateOnly today, DateOnly? firstDay = null) => manifest.Metrics switch
    {
        { Backfill: { CompletedAt: null } b } => LakeLayout.ParseDateKey(b.FromDate),
        { ComputedThroughTs: null, Backfill: null } => firstDay is { } d && d <= today ? d : today.AddDays(-retentionDays),
        _ => null,
    };

    /// <summary>
    /// Every day the backfill has left as one step, when they run from its first day without a gap
    /// (days are done newest first, so they do unless a day was recorded out of turn).
    /// </summary>
    private static ReplicationStep.Backfill? OnePass(BackfillState backfill, DateOnly from, DateOnly to, DateTimeOffset now)
    {
        var left = Days(from, to).Where(d => !backfill.DaysDone.Contains(d)).Select(LakeLayout.ParseDateKey).ToList();
        if (left.Count == 0 || left[^1] != from.AddDays(left.Count - 1)) return null;
        var after = backfill with { DaysDone = backfill.DaysDone.Union(Days(from, to)), CompletedAt = now };
        return new ReplicationStep.Backfill(after, left[^1], left[^1] == to, IsLast: true, FirstDay: from);
    }

    /// <summary>
    /// The backfill day that will be planned once <paramref name="step"/> is committed, known before
    /// that commit lands (a backfill step's commit only records its progress); null after the last day.
    /// </summary>
    public static ReplicationStep.Backfill? BackfillAfter(LakeManifest manifest, ReplicationStep.Backfill step, DatabaseClock clock, TimeSpan lag, int retentionDays, DateTimeOffset now, DateOnly noRowsBefore = default)
    {
        if (step.IsLast) return null;
        var committed = manifest with { Datasets = manifest.Datasets.SetItem(LakeLayout.Dataset, manifest.Metrics with { Backfill = step.After }) };
        return Next(committed, clock, lag, retentionDays, now, noRowsBefore) as ReplicationStep.Backfill;
    }

    /// <summary>
    /// The newest day a takeover has not rebuilt yet. Its rows up to the watermark replace every
    /// file of the day (the first implementation's and any since), in place (hot or cold); before
    /// the last day is done no incremental batch runs, so none can meet a file of the first implementation.
    /// </summary>
    private static ReplicationStep.Rebuild TakeoverDay(LakeManifest manifest, TakeoverState takeover, DateTimeOffset cursor, DateTimeOffset now)
    {
        var key = takeover.DaysLeft.Max!;
        var day = LakeLayout.ParseDateKey(key);
        var left = takeover.DaysLeft.Remove(key);
        var partition = manifest.Metrics.Partitions.GetValueOrDefault(key);
        var replaces = partition is null
            ? []
            : partition.Shards.SelectMany(s => s.Value.Files.Select(f => new FileRemove(day, LakeLayout.ParseShardKey(s.Key), f.Name))).ToImmutableList();
        return new ReplicationStep.Rebuild(day, partition?.Location ?? LakeLocation.Hot, cursor, replaces,
            takeover with { DaysLeft = left, CompletedAt = left.Count == 0 ? now : null });
    }

    private static IEnumerable<string> Days(DateOnly from, DateOnly through)
    {
        for (var day = from; day <= through; day = day.AddDays(1))
            yield return LakeLayout.DateKey(day);
    }

    /// <summary>The commit that records a step planned at <paramref name="plannedAt"/>: backfill progress, the watermark moving to the bound, or a day rebuilt.</summary>
    public static LakeCommit CommitFor(ReplicationStep step, string runId, DateTimeOffset plannedAt) => step switch
    {
        ReplicationStep.Backfill b => new LakeCommit(CommitKind.Backfill, runId, [], [], b.IsLast ? b.After.Cursor : null, b.After),
        ReplicationStep.Incremental i => new LakeCommit(CommitKind.Replication, runId, [], [], i.Bound.Through),
        ReplicationStep.Rebuild r => new LakeCommit(CommitKind.Backfill, runId, [], r.Replaces, Takeover: r.TakeoverAfter, Rebuilt: (r.Day, plannedAt)),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "Nothing to commit."),
    };
}
