using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using Npgsql;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// Keeps the lake in step with Postgres. Each cycle takes the manifest from the coordinator,
/// plans the next step (a backfill day, a day to rebuild, or an incremental batch up to the
/// cursor bound), has a <see cref="BatchWriter"/> write the step's rows to <c>.tmp</c> parts, and
/// asks the coordinator to commit the whole batch at once. The next step is planned only after
/// the commit is answered; during a backfill, the next day's COPY is already read ahead
/// meanwhile, and used if it is the step then planned. Failures abandon the batch and retry with backoff.
/// </summary>
public sealed class ReplicationActor : ReceiveActor, IWithTimers
{
    public sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>From the daemon: the coordinator failed and was restarted, so a commit it was given may never be answered.</summary>
    public sealed record CoordinatorRestarted
    {
        public static readonly CoordinatorRestarted Instance = new();
    }

    /// <summary>Sent to the listener after each cycle (backfill days plus one incremental batch).</summary>
    public sealed record CycleCompleted(bool Succeeded, string? Error, LakeManifest? Manifest);

    private sealed record Failed(string Stage, Exception Error);

    private sealed record BatchWriterStopped(string RunId);

    private const int MaxConflictRetries = 3;
    private static readonly TimeSpan CommitAnswerTimeout = TimeSpan.FromMinutes(2);

    private readonly LakeSettings _settings;
    private readonly IActorRef _coordinator;
    private readonly IActorRef? _listener;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ReplicationLog _report;
    private readonly ReplicationJob _job;
    private readonly IFaultPoints _faults;
    private readonly JobPlanner _planner;
    private readonly StepExports _exports;
    private int _conflicts;
    private int _failures;
    private int _batches;

    // Read once per backfill. Rows up to its cursor were committed before it began; only rows without
    // inserted_at could arrive later, and a day already scanned would miss those just the same.
    private DateOnly? _noRowsBefore;

    public ReplicationActor(LakeSettings settings, IActorRef coordinator, IActorRef? listener, ReplicationJob job, IFaultPoints? faults = null)
    {
        _faults = faults ?? FaultPoints.None;
        _settings = settings;
        _coordinator = coordinator;
        _listener = listener;
        _job = job;
        _report = new ReplicationLog(_log, settings);
        _planner = new JobPlanner(job, settings, _log, _report);
        _dataSource = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(settings.DatabaseUrl
            ?? throw new InvalidOperationException("No database configured: set --database-url, CORE_DATABASE_URL, or database_url in setup/config.json.")));
        _exports = new StepExports(_dataSource, settings, Context.System.Materializer());
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LakeSettings settings, IActorRef coordinator, IActorRef? listener, ReplicationJob job, IFaultPoints? faults = null) =>
        Akka.Actor.Props.Create(() => new ReplicationActor(settings, coordinator, listener, job, faults));

    /// <summary>A batch writer that throws is stopped; watching it fails its batch.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _log.Info("Replicating from {Database} every {IntervalSeconds} s (lag guard {LagSeconds} s)",
            DatabaseUrl.Describe(_dataSource.ConnectionString), _settings.ReplicationInterval.TotalSeconds, _settings.ReplicationLag.TotalSeconds);
        Self.Tell(Tick.Instance);
    }

    protected override void PostStop()
    {
        _exports.Drop();
        _dataSource.Dispose();
    }

    private void Idle()
    {
        Receive<Tick>(_ => StartStep());
    }

    private void StartStep()
    {
        _coordinator.Tell(GetManifest.Instance);
        Become(Planning);
    }

    private void Planning()
    {
        ManifestSnapshot? snapshot = null;
        Receive<ManifestSnapshot>(s =>
        {
            snapshot = s;
            var dataSource = _dataSource;
            var readNoRowsBefore = _noRowsBefore is null && s.Manifest.Metrics.ComputedThroughTs is null;
            TimeSpan? lagGuard = _job is ReplicationJob.Backfill || s.Manifest.Metrics.ComputedThroughTs is null ? null : _settings.ReplicationLag;
            var readsDays = _job is ReplicationJob.Backfill or ReplicationJob.Rebuild || s.Manifest.Metrics.Backfill is { CompletedAt: null } || s.Manifest.Metrics.ComputedThroughTs is null
                || s.Manifest.Metrics.Takeover is { CompletedAt: null } || s.DaysToRebuild is { Count: > 0 };
            SourceState.ReadAsync(dataSource, readNoRowsBefore, lagGuard, readsDays, CancellationToken.None).PipeTo(Self, success: p => p, failure: e => new Failed("reading the database clock", e));
        });
        Receive<SourceState>(p => Plan(snapshot!, p));
        Receive<Failed>(f => Fail(f));
        Receive<Tick>(_ => { });
    }

    private void Plan(ManifestSnapshot snapshot, SourceState source)
    {
        var manifest = snapshot.Manifest;
        if (!source.Clock.CanSeeAllSessions) _report.CannotSeeAllSessions();
        var now = DateTimeOffset.UtcNow;
        _noRowsBefore ??= source.NoRowsBefore;
        if (source.DayScan is { } scan)
        {
            if (_exports.DayScan is null || _exports.DayScan.Index != scan.Index)
                _log.Info("Reading days from PostgreSQL: {DayScan}", scan.Describe());
            _exports.DayScan = scan;
        }
        var decision = _planner.Next(manifest, snapshot.DaysToRebuild, source.Clock, source.HeldBackByLag, _noRowsBefore ?? default, now);
        if (decision.RepairTaken is { } day) _coordinator.Tell(new RebuildTaken(day));
        switch (decision)
        {
            case JobPlanner.Decision.Export export:
                StartExport(manifest, export.Step, source.Table, now, export.Clock, export.HeldBackByLag);
                break;
            case JobPlanner.Decision.Refused refused:
                _listener?.Tell(new CycleCompleted(false, refused.Reason, manifest));
                Become(Idle);
                break;
            default:
                CycleDone(manifest);
                break;
        }
    }

    /// <summary>A repair that did not commit is asked for again, so it is not lost until the next check.</summary>
    private void AskAgainForRepair(ReplicationBatch batch)
    {
        if (_job.Repeats && batch.Step is ReplicationStep.Rebuild { TakeoverAfter: null } r)
            _coordinator.Tell(new RebuildDay(r.Day, "its rebuild did not commit"));
    }

    private PartitionPlacement Placement(LakeManifest manifest, DateTimeOffset now) => JobPlanner.Placement(manifest, _settings, now);

    private void StartExport(LakeManifest manifest, ReplicationStep step, SourceTable table, DateTimeOffset now, DatabaseClock? clock = null, long heldBackByLag = 0)
    {
        var runId = RunId.New(now);
        Func<DateOnly, LakeLocation?> locationFor = step is ReplicationStep.Rebuild rebuild ? _ => rebuild.Location : Placement(manifest, now).LocationFor;
        var export = _exports.Start(step, table, manifest, locationFor);
        _log.Debug("Run {RunId}: exporting {Window}", runId, step.ExportWindow.Describe());
        var writer = Context.ActorOf(BatchWriter.Props(new BatchWriter.Job(step, runId, manifest, export), _settings, _faults), $"batch-{++_batches}");
        Context.WatchWith(writer, new BatchWriterStopped(runId));
        var batch = new ReplicationBatch(step, runId, table, now, manifest, writer) { PlannedWith = clock, HeldBackByLag = heldBackByLag };
        Become(() => Writing(batch));
    }

    private void Writing(ReplicationBatch batch)
    {
        Receive<BatchWriter.Exported>(_ => Sender.Equals(batch.Writer), _ => _exports.ReadAheadAfter(batch, _noRowsBefore ?? default));
        Receive<BatchWriter.Written>(_ => Sender.Equals(batch.Writer), written => RequestCommit(batch, written));
        Receive<BatchWriter.Failed>(_ => Sender.Equals(batch.Writer), f =>
        {
            if (f.Conflict && ++_conflicts <= MaxConflictRetries)
                Replan(batch, f.Error.Message);
            else
                Fail(new Failed(f.Stage, f.Error), batch);
        });
        Receive<BatchWriterStopped>(s => s.RunId == batch.RunId,
            _ => Fail(new Failed("writing", new IOException("its batch writer failed and stopped; the batch's rows are written again on the retry")), batch));
        Receive<Failed>(f => Fail(f, batch));
        Receive<Tick>(_ => { });
    }

    private void RequestCommit(ReplicationBatch batch, BatchWriter.Written written)
    {
        var commit = ReplicationPlanner.CommitFor(batch.Step, batch.RunId);
        _coordinator.Tell(new Commit(commit with { Removes = commit.Removes.AddRange(written.Replaced) }, written.Parts, batch.Report(written, DateTimeOffset.UtcNow)));
        // A coordinator that fails in the middle of a commit restarts without answering it.
        Context.SetReceiveTimeout(CommitAnswerTimeout);
        Become(() => Committing(batch, written));
    }

    private void Committing(ReplicationBatch batch, BatchWriter.Written written)
    {
        Receive<CommitSucceeded>(c =>
        {
            Context.SetReceiveTimeout(null);
            var progress = _planner.ProgressAfter(batch.Step, batch.StartedAt, written.Tally.Rows);
            if (progress is not null) _listener?.Tell(progress);
            _report.Committed(batch, written, c.Manifest, progress);
            ReplicationLog.Record(batch, written, "committed");
            EndBatch(batch);
            _failures = 0;
            _conflicts = 0;
            if (batch.Step.IsDay)
                StartStep();
            else
                CycleDone(c.Manifest);
        });
        Receive<CommitFailed>(f =>
        {
            Context.SetReceiveTimeout(null);
            if (f.Conflict && ++_conflicts <= MaxConflictRetries)
                Replan(batch, f.Reason);
            else
                Fail(new Failed(f.Conflict ? "committing (the lake changed meanwhile)" : "committing", new IOException(f.Reason)), batch);
        });
        // Either way the batch is planned again from the manifest, so a commit that did land is not written twice.
        Receive<CoordinatorRestarted>(_ =>
        {
            Context.SetReceiveTimeout(null);
            Fail(new Failed("committing", new IOException("the coordinator failed during the commit and was restarted")), batch);
        });
        Receive<ReceiveTimeout>(_ =>
        {
            Context.SetReceiveTimeout(null);
            Fail(new Failed("committing", new TimeoutException($"the coordinator did not answer within {CommitAnswerTimeout.TotalSeconds:0} s")), batch);
        });
        Receive<Tick>(_ => { });
    }

    /// <summary>Compaction or retention changed the lake under this batch: it is abandoned and planned again now.</summary>
    private void Replan(ReplicationBatch batch, string reason)
    {
        _log.Info("Run {RunId} was not committed because the lake changed meanwhile ({Reason}); planning it again", batch.RunId, reason);
        _planner.Retry(batch.Step);
        AskAgainForRepair(batch);
        ReplicationLog.Record(batch, null, "replanned");
        EndBatch(batch);
        StartStep();
    }

    private void CycleDone(LakeManifest manifest)
    {
        _listener?.Tell(new CycleCompleted(true, null, manifest));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, _settings.ReplicationInterval);
    }

    private void Fail(Failed failed, ReplicationBatch? batch = null)
    {
        var error = failed.Error.Cause();
        var message = $"{failed.Stage}: {error.Message}";
        _failures++;
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, _failures - 1), Math.Max(_settings.ReplicationInterval.TotalSeconds, 60)));
        if (_job.Repeats)
            _log.Error("Replication failed while {Stage}: {Error}. The batch was abandoned and nothing was committed; retrying in {RetrySeconds} s (attempt {Attempt})",
                [failed.Stage, error.Message, delay.TotalSeconds, _failures]);
        else
            _log.Error("Replication failed while {Stage}: {Error}. The batch was abandoned and nothing was committed; run again to retry", failed.Stage, error.Message);
        _exports.Drop();
        var now = DateTimeOffset.UtcNow;
        if (batch is not null)
        {
            AskAgainForRepair(batch);
            ReplicationLog.Record(batch, null, "failed");
            EndBatch(batch);
        }
        _coordinator.Tell(new RecordFailure(batch?.Report(null, now) ?? new RunReport("-", "none", now, now, 0, 0, 0, null, null, null), message));
        _listener?.Tell(new CycleCompleted(false, message, null));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, delay);
    }

    /// <summary>A batch is over (committed or abandoned): its writer stops, and with it its shard-day writers, deleting any part still .tmp.</summary>
    private void EndBatch(ReplicationBatch batch)
    {
        Context.Unwatch(batch.Writer);
        Context.Stop(batch.Writer);
    }
}
