using Akka.Event;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Telemetry;

namespace AkkaLake.Actors.Replication;

/// <summary>What replication tells an operator: one structured line per batch, its metrics, and warnings about the source.</summary>
internal sealed class ReplicationLog(ILoggingAdapter log, LakeSettings settings)
{
    private const string Summary = "{Rows} rows into {Files} files ({Bytes} bytes) in {DurationMs} ms ({RowsPerSecond} rows/s); watermark {Watermark}, {LagSeconds} s behind now; run {RunId}";
    private const string SoFar = "; {DaysDone} of {DaysTotal} days done, {RowsSoFar} rows so far, about {EtaSeconds} s left";

    private bool _warnedAboutVisibility;
    private bool _warnedClockSetBack;
    private bool? _saidOnePass;

    public static void Record(ReplicationBatch batch, BatchWriter.Written? written, string outcome)
    {
        LakeMetrics.Batches.Add(1, LakeMetrics.Tag("outcome", outcome));
        if (written is null || outcome != "committed") return;
        LakeMetrics.RowsReplicated.Add(written.Tally.Rows);
        LakeMetrics.BytesReplicated.Add(written.Parts.Sum(p => p.Written.Bytes));
        LakeMetrics.BatchDuration.Record((DateTimeOffset.UtcNow - batch.StartedAt).TotalSeconds);
        foreach (var (reason, rows) in written.Tally.Skipped.ByReason)
            LakeMetrics.SkippedRows.Add(rows, LakeMetrics.Tag("reason", reason));
    }

    public void Committed(ReplicationBatch batch, BatchWriter.Written written, LakeManifest manifest, DaysProgress? progress)
    {
        var tally = written.Tally;
        var duration = DateTimeOffset.UtcNow - batch.StartedAt;
        var watermark = manifest.Metrics.ComputedThroughTs is { } w ? Timestamps.Format(w) : "none";
        var lag = manifest.Metrics.ComputedThroughTs is { } w2 ? Math.Round((DateTimeOffset.UtcNow - w2).TotalSeconds) : 0;
        object[] figures = [tally.Rows, written.Parts.Count, written.Parts.Sum(p => p.Written.Bytes), (long)duration.TotalMilliseconds,
            Math.Round(tally.Rows / Math.Max(duration.TotalSeconds, 0.001)), watermark, lag, batch.RunId];
        object[] soFar = progress is null ? [] : [progress.DaysDone, progress.DaysTotal, progress.Rows, Math.Round(progress.Left?.TotalSeconds ?? 0)];
        switch (batch.Step)
        {
            case ReplicationStep.Backfill { EmptyDaysBefore: > 0 } b:
                log.Info("Backfilled {Date}: " + Summary, [LakeLayout.DateKey(b.Day), .. figures]);
                log.Info("The source has no rows older than {Date}: the {EmptyDays} older days of the hot horizon are recorded as empty without scanning them",
                    LakeLayout.DateKey(b.Day), b.EmptyDaysBefore);
                break;
            case ReplicationStep.Backfill { FirstDay: { } first } b:
                log.Info("Backfilled {From} through {To} in one pass: " + Summary, [LakeLayout.DateKey(first), LakeLayout.DateKey(b.Day), .. figures]);
                break;
            case ReplicationStep.Backfill b when tally.Rows == 0:
                log.Debug("Backfilled {Date}: no rows", LakeLayout.DateKey(b.Day));
                break;
            case ReplicationStep.Backfill b when progress is { Complete: false }:
                log.Info("Backfilled {Date}: " + Summary + SoFar, [LakeLayout.DateKey(b.Day), .. figures, .. soFar]);
                break;
            case ReplicationStep.Backfill b:
                log.Info("Backfilled {Date}: " + Summary, [LakeLayout.DateKey(b.Day), .. figures]);
                break;
            case ReplicationStep.Rebuild { TakeoverAfter: { } t } r:
                log.Info("Took over {Date}: rebuilt from PostgreSQL, replacing {Replaced} files; {DaysLeft} of {DaysTotal} days left: " + Summary,
                    [LakeLayout.DateKey(r.Day), r.Replaces.Count, t.DaysLeft.Count, t.DaysTotal, .. figures]);
                if (t.CompletedAt is not null)
                    log.Info("Takeover complete: every day of the first implementation's lake is rebuilt; incremental replication continues from {Watermark}", watermark);
                break;
            case ReplicationStep.Rebuild r when progress is { Complete: false }:
                log.Info("Rebuilt {Date}, replacing {Replaced} files: " + Summary + SoFar, [LakeLayout.DateKey(r.Day), r.Replaces.Count, .. figures, .. soFar]);
                break;
            case ReplicationStep.Rebuild r:
                log.Info("Rebuilt {Date}, replacing {Replaced} files: " + Summary, [LakeLayout.DateKey(r.Day), r.Replaces.Count, .. figures]);
                break;
            case ReplicationStep.Incremental when batch.HeldBackByLag > 0:
                log.Info("Replicated " + Summary + "; {HeldBack} rows inserted in the last {LagGuardSeconds} s wait for the lag guard (CORE_ANALYSIS_REPLICATION_LAG_SECONDS) and go in a later batch",
                    [.. figures, batch.HeldBackByLag, settings.ReplicationLag.TotalSeconds]);
                break;
            default:
                log.Info("Replicated " + Summary, figures);
                break;
        }
        if (batch.Step is ReplicationStep.Backfill { IsLast: true } last)
            log.Info("Backfill of {From} to {To} complete: rows inserted up to {Watermark} are in the lake; incremental replication continues from there",
                last.After.FromDate, last.After.ToDate, Timestamps.Format(last.After.Cursor));
        RowsOfNote(batch, written);
        if (written.Tally.Held > 0)
            log.Info("Held {Held} re-sent or late readings whose time falls in files already committed, to place them together with later ones within {HoldSeconds} s " +
                "(hold-corrections-seconds); the watermark stays at {Watermark} until then; run {RunId}", written.Tally.Held, settings.HoldCorrections.TotalSeconds, watermark, batch.RunId);
    }

    private void RowsOfNote(ReplicationBatch batch, BatchWriter.Written written)
    {
        var tally = written.Tally;
        if (tally.Skipped.Total > 0)
            log.Warning("Skipped {Skipped} rows the lake cannot hold ({Reasons}); e.g. {Examples}",
                tally.Skipped.Total, tally.Skipped.ToString(), string.Join("; ", tally.Skipped.SampleKeys));
        if (tally.TooOld > 0)
            log.Warning("Skipped {Rows} rows older than the hot horizon ({RetentionDays} days): no cold path is configured, Postgres keeps them",
                tally.TooOld, settings.HotRetentionDays);
        if (tally.NonFinite > 0)
            log.Info("Wrote {Rows} rows whose value is NaN or infinite as they are", tally.NonFinite);
        if (tally.Placed > 0 || tally.Unchanged > 0)
            log.Info("Older readings: {Placed} placed into the files holding or covering them ({Superseded} replacing older versions), by rewriting {Files} files in the same commit; {Unchanged} readings already in the lake unchanged were not written again; run {RunId}",
                tally.Placed, tally.SupersededRows, written.Parts.Count(p => p.Metadata.Kind == CommitKind.Compaction), tally.Unchanged, batch.RunId);
        if (tally.NullQualities > 0)
            log.Info("Wrote {Rows} rows whose quality is NULL with quality 0, as the controller reads them", tally.NullQualities);
    }

    public void Started(string connectionString) =>
        log.Info("Replicating from {Database} every {IntervalSeconds} s (lag guard {LagSeconds} s)",
            DatabaseUrl.Describe(connectionString), settings.ReplicationInterval.TotalSeconds, settings.ReplicationLag.TotalSeconds);

    /// <param name="retryIn">When a repeating job tries again; null for a one-off job.</param>
    /// <param name="failure">The stage and the error in words ("exporting rows: PostgreSQL at … is unreachable: …").</param>
    public void Abandoned(string failure, TimeSpan? retryIn, int attempt)
    {
        if (retryIn is { } delay)
            log.Error("Replication failed while {Failure}. The batch was abandoned and nothing was committed; retrying in {RetrySeconds} s (attempt {Attempt})",
                failure, delay.TotalSeconds, attempt);
        else
            log.Error("Replication failed while {Failure}. The batch was abandoned and nothing was committed; run again to retry", failure);
    }

    /// <summary>Said at start, and again only if an index appears or goes.</summary>
    public void IfDayScanChanged(DayScan? previous, DayScan scan)
    {
        if (previous is null || previous.Index != scan.Index)
            log.Info("Reading days from PostgreSQL: {DayScan}", scan.Describe());
    }

    /// <summary>Said once, and again only if the choice changes.</summary>
    public void IfBackfillPassChanged(BackfillPass pass)
    {
        if (_saidOnePass == pass.OnePass) return;
        _saidOnePass = pass.OnePass;
        log.Info("Reading the first backfill from PostgreSQL: {BackfillPass}", pass.Describe());
    }

    public void CannotSeeAllSessions()
    {
        if (_warnedAboutVisibility) return;
        _warnedAboutVisibility = true;
        log.Warning("The database role cannot see other sessions' transactions, so a long-running insert could be missed. Grant it pg_read_all_stats.");
    }

    /// <summary>
    /// A database clock behind the watermark was set back. The watermark holds (it never moves
    /// back), but rows written meanwhile are stamped before it, where incremental batches do not look.
    /// </summary>
    public void IfClockSetBack(DatabaseClock clock, DateTimeOffset watermark)
    {
        var behind = watermark - (clock.Now - settings.ReplicationLag);
        if (behind <= TimeSpan.FromSeconds(1))
        {
            _warnedClockSetBack = false;
            return;
        }
        if (_warnedClockSetBack) return;
        _warnedClockSetBack = true;
        log.Warning("The database clock reads {DatabaseNow}, {BehindSeconds:0} s before the watermark {Watermark}: it was set back. The watermark holds until the clock passes it. " +
            "Rows written meanwhile get an inserted_at before the watermark and are not replicated incrementally; reconciliation finds them when it next checks their days " +
            "(today and yesterday hourly, every hot day daily) and rebuilds those days, or run akkalake reconcile now",
            Timestamps.Format(clock.Now), behind.TotalSeconds, Timestamps.Format(watermark));
    }

    public void IfCapped(CursorBound bound, DateTimeOffset watermark)
    {
        if (bound.LimitedBy == CursorLimit.OpenTransaction)
            log.Warning("An open transaction holds the watermark back: it may only advance to {Bound} (lag behind now {LagSeconds:0} s) until that transaction ends",
                Timestamps.Format(bound.Through), (DateTimeOffset.UtcNow - bound.Through).TotalSeconds);
        else if (bound.LimitedBy == CursorLimit.PreparedTransaction)
            log.Warning("A prepared transaction exists in the source database; the watermark holds at {Watermark} until it is committed or rolled back",
                Timestamps.Format(watermark));
    }
}
