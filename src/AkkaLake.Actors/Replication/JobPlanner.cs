using Akka.Event;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Telemetry;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// What the replication actor does next for its job: the daemon's own steps (the first backfill,
/// days reconciliation asked to rebuild, incremental batches), or the days asked for by hand
/// (<c>akkalake backfill</c>, <c>akkalake reconcile</c>), whose queue it keeps.
/// </summary>
internal sealed class JobPlanner(ReplicationJob job, LakeSettings settings, ILoggingAdapter log, ReplicationLog report)
{
    public abstract record Decision
    {
        /// <param name="Clock">The clock the step was planned with, when the next backfill day may be read ahead.</param>
        public sealed record Export(ReplicationStep Step, DatabaseClock? Clock = null, long HeldBackByLag = 0) : Decision;

        /// <summary>Nothing more this cycle.</summary>
        public sealed record Done : Decision;

        /// <summary>The job cannot be done on this lake.</summary>
        public sealed record Refused(string Reason) : Decision;
    }

    private Queue<DateOnly>? _manualDays;
    private int _manualDaysTotal;
    private bool _firstBackfillByHand;
    private long _dayWorkRows;
    private int _daysRead;
    private DateTimeOffset? _dayWorkStarted;

    /// <summary>The daemon's re-sent and late readings held to be placed together; a one-off job places them at once.</summary>
    public CorrectionHold Hold { get; } = new(job.Repeats ? settings.HoldCorrections : TimeSpan.Zero);

    /// <summary>Days asked for by hand done of those asked for; null for the daemon's own steps.</summary>
    public (int Done, int Total)? ManualProgress =>
        _manualDays is null ? null : (_manualDaysTotal - _manualDays.Count, _manualDaysTotal);

    public static PartitionPlacement Placement(LakeManifest manifest, LakeSettings settings, DateTimeOffset now) =>
        new(manifest, DateOnly.FromDateTime(now.UtcDateTime), settings.HotRetentionDays, settings.ColdPath is not null);

    /// <param name="knowsNoRowsBefore">The first day holding rows was read already.</param>
    public SourceReads ReadsFor(LakeManifest manifest, bool knowsNoRowsBefore, DateTimeOffset now)
    {
        var metrics = manifest.Metrics;
        var firstBackfill = !metrics.FirstBackfillDone;
        TimeSpan? lagGuard = job is ReplicationJob.Backfill || firstBackfill ? null : settings.ReplicationLag;
        var days = job is ReplicationJob.Backfill or ReplicationJob.Rebuild || metrics.NotReady is not null || metrics.DaysToRebuild is { Count: > 0 };
        var backfillFrom = job is ReplicationJob.Rebuild
            ? null
            : ReplicationPlanner.BackfillFrom(manifest, settings.HotRetentionDays, DateOnly.FromDateTime(now.UtcDateTime), (job as ReplicationJob.Backfill)?.From);
        return new SourceReads(!knowsNoRowsBefore && firstBackfill, lagGuard, days, backfillFrom, settings.FirstBackfillRead);
    }

    /// <param name="noRowsBefore">Days before this hold no rows (the first backfill records them without scanning).</param>
    /// <param name="backfillInOnePass">The first backfill reads its days in one pass (<see cref="BackfillPass"/>).</param>
    public Decision Next(LakeManifest manifest, DatabaseClock clock, long heldBackByLag, DateOnly noRowsBefore, DateTimeOffset now, bool backfillInOnePass = false)
    {
        switch (job)
        {
            case ReplicationJob.Backfill manual when !manifest.Metrics.FirstBackfillDone || _firstBackfillByHand:
                return FirstBackfill(manifest, manual, clock, noRowsBefore, now, backfillInOnePass);
            case ReplicationJob.Backfill manual:
                if (_manualDays is null)
                {
                    var (days, refusal) = ManualBackfill.Check(manifest, manual.From, manual.To, manual.Replace);
                    if (refusal is not null) return new Decision.Refused(refusal);
                    ManualDays(days);
                }
                return NextManualDay(manifest, now);
            case ReplicationJob.Rebuild when manifest.Metrics.NotReady is { } reason:
                return new Decision.Refused(LakeNotReadyException.Refusal(reason));
            case ReplicationJob.Rebuild rebuild:
                if (_manualDays is null) ManualDays(rebuild.Days);
                return NextManualDay(manifest, now);
        }

        var step = ReplicationPlanner.Next(manifest, clock, settings.ReplicationLag, settings.HotRetentionDays, now, noRowsBefore, inOnePass: backfillInOnePass);
        if (manifest.Metrics.ComputedThroughTs is { } watermark) report.IfClockSetBack(clock, watermark);
        // Days reconciliation found differing, newest first, before the next incremental batch; a day with no place in the lake any more is passed over.
        if (step is ReplicationStep.UpToDate or ReplicationStep.Incremental && job.Repeats && manifest.Metrics.DaysToRebuild is { Count: > 0 } marks)
        {
            var placement = Placement(manifest, settings, now);
            foreach (var key in marks.Keys.Reverse())
            {
                if (ManualBackfill.StepFor(manifest, LakeLayout.ParseDateKey(key), placement) is not { } repair) continue;
                log.Info("Rebuilding {Date} from PostgreSQL because it differs from it ({Reason}); incremental replication continues right after", key, marks[key].Reason);
                return new Decision.Export(Hold.Plan(repair, now));
            }
        }
        step = Hold.Plan(step, now);
        switch (step)
        {
            case ReplicationStep.UpToDate u:
                report.IfCapped(u.Bound, u.Watermark);
                return new Decision.Done();
            case ReplicationStep.Incremental i:
                report.IfCapped(i.Bound, i.After);
                var backlog = now - i.After;
                if (backlog > TimeSpan.FromHours(settings.LateWindowHours))
                    log.Warning("Replication is {BacklogHours:0.0} h behind (late window {LateWindowHours} h); catching up from {Watermark}",
                        backlog.TotalHours, settings.LateWindowHours, Timestamps.Format(i.After));
                break;
        }
        return new Decision.Export(step, clock, heldBackByLag);
    }

    /// <summary>How far the day-at-a-time work a committed step belongs to has got; null for an incremental batch or a single repair.</summary>
    /// <param name="noRowsBefore">Days before this hold no rows: a backfill records them without reading them.</param>
    public DaysProgress? ProgressAfter(ReplicationStep step, DateTimeOffset batchStartedAt, long rows, DateOnly noRowsBefore)
    {
        var (done, total, toRead) = step switch
        {
            { IsDay: false } => (0, 0, 0),
            _ when ManualProgress is { } manual => (manual.Done, manual.Total, manual.Total - manual.Done),
            ReplicationStep.Backfill b => (b.After.DaysDone.Count, b.After.TotalDays(), b.After.DaysLeft().Count(d => d >= noRowsBefore)),
            ReplicationStep.Rebuild { TakeoverAfter: { } t } => (t.DaysTotal - t.DaysLeft.Count, t.DaysTotal, t.DaysLeft.Count),
            _ => (0, 0, 0),
        };
        if (total == 0) return null;
        _dayWorkStarted ??= batchStartedAt;
        _dayWorkRows += rows;
        _daysRead++;
        return new DaysProgress(done, total, _dayWorkRows, DateTimeOffset.UtcNow - _dayWorkStarted.Value, _daysRead, toRead);
    }

    /// <summary>A day asked for by hand that did not commit goes back to the front of the queue.</summary>
    public void Retry(ReplicationStep step)
    {
        if (step is ReplicationStep.Rebuild r && _manualDays is not null)
            _manualDays = new Queue<DateOnly>(_manualDays.Prepend(r.Day));
    }

    /// <summary>
    /// <c>akkalake backfill</c> on a lake whose first backfill has not completed: that backfill,
    /// from the first day asked for through today, after which incremental replication can continue.
    /// </summary>
    private Decision FirstBackfill(LakeManifest manifest, ReplicationJob.Backfill manual, DatabaseClock clock, DateOnly noRowsBefore, DateTimeOffset now, bool inOnePass)
    {
        var step = ReplicationPlanner.Next(manifest, clock, settings.ReplicationLag, settings.HotRetentionDays, now, noRowsBefore, manual.From, inOnePass);
        if (step is not ReplicationStep.Backfill day) return new Decision.Done();
        if (!_firstBackfillByHand)
            log.Info("The lake has no data yet, so this is its first backfill: {From} through {To}, {Order}; 'akkalake run' continues from where it ends",
                day.After.FromDate, day.After.ToDate, day.FirstDay is null ? "newest day first" : "in one pass");
        _firstBackfillByHand = true;
        return new Decision.Export(step, clock);
    }

    private void ManualDays(IReadOnlyCollection<DateOnly> days)
    {
        _manualDays = new Queue<DateOnly>(days);
        _manualDaysTotal = days.Count;
    }

    private Decision NextManualDay(LakeManifest manifest, DateTimeOffset now)
    {
        var placement = Placement(manifest, settings, now);
        while (_manualDays!.TryDequeue(out var day))
        {
            if (ManualBackfill.StepFor(manifest, day, placement) is { } step) return new Decision.Export(step);
            log.Warning("Skipping {Date}: it is older than the hot horizon and no cold path is configured", LakeLayout.DateKey(day));
        }
        return new Decision.Done();
    }
}
