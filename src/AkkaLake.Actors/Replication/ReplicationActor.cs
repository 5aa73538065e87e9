using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using Npgsql;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;
using static AkkaLake.Actors.Replication.ReplicationProtocol;

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
    private sealed record Failed(string Stage, Exception Error);

    private sealed record BatchWriterStopped(string RunId);

    private const int MaxConflictRetries = 3;

    /// <summary>How long a replication actor restarted after a failure waits before its first cycle.</summary>
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

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
    private readonly IActorRef _watchdog;
    private readonly string _server;
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
        var connectionString = DatabaseUrl.ConnectionStringOf(settings);
        _server = DatabaseUrl.Describe(connectionString);
        // No command timeout: a read that waits (on a lock, on a long scan) is not a failure; the watchdog reports one that does not end.
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        // Its streams are children of this actor: they stop with it, and a restart makes a new one.
        _exports = new StepExports(_dataSource, settings, Context.Materializer(SourceExport.MaterializerSettings(Context.System), "export"));
        _watchdog = Context.ActorOf(ReplicationWatchdog.Props(listener, coordinator, settings.StallAfter, connectionString), "watchdog");
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LakeSettings settings, IActorRef coordinator, IActorRef? listener, ReplicationJob job, IFaultPoints? faults = null) =>
        Akka.Actor.Props.Create(() => new ReplicationActor(settings, coordinator, listener, job, faults));

    /// <summary>A batch writer that throws is stopped; watching it fails its batch.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _report.Started(_dataSource.ConnectionString);
        Self.Tell(Tick.Instance);
    }

    /// <summary>The actor itself failed: its parent is told, so the daemon can say replication is down and give up if it keeps failing.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        Context.Parent.Tell(new Crashed(reason.Message));
        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason)
    {
        _report.Started(_dataSource.ConnectionString);
        Timers.StartSingleTimer("tick", Tick.Instance, RestartDelay);
    }

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, "replicating", message);

    protected override void PostStop()
    {
        _exports.Drop();
        _dataSource.Dispose();
    }

    private void Idle()
    {
        Receive<Tick>(_ =>
        {
            // A failure of the actor's own handler, not of a batch: the daemon's supervision is what it tests.
            _faults.Hit("replication.tick");
            StartStep();
        });
        IgnoreLate();
    }

    /// <summary>
    /// Answers that come after their batch ended (its writer stopped), and a coordinator restart
    /// with no commit waiting: expected, ignored.
    /// </summary>
    private void IgnoreLate()
    {
        Receive<CoordinatorRestarted>(_ => { });
        Receive<BatchWriter.Exported>(_ => { });
        Receive<BatchWriter.Written>(_ => _log.Debug("A batch that already ended reported its parts; its writer deleted them"));
        Receive<BatchWriter.Failed>(_ => { });
        Receive<BatchWriterStopped>(_ => { });
    }

    private void StartStep()
    {
        _coordinator.Tell(GetManifest.Instance);
        _watchdog.Tell(new ReplicationWatchdog.Entered(ReplicationWatchdog.Stage.Planning, "planning the next step (the manifest, the database clock and the table)"));
        Become(Planning);
    }

    private void Planning()
    {
        ManifestSnapshot? snapshot = null;
        Receive<ManifestSnapshot>(s =>
        {
            snapshot = s;
            SourceState.ReadAsync(_dataSource, _planner.ReadsFor(s.Manifest, _noRowsBefore is not null, DateTimeOffset.UtcNow), CancellationToken.None)
                .PipeTo(Self, success: p => p, failure: e => new Failed("reading the database clock", e));
        });
        Receive<SourceState>(p => Plan(snapshot!, p));
        Receive<Failed>(f => Fail(f));
        Receive<Tick>(_ => { });
        IgnoreLate();
    }

    private void Plan(ManifestSnapshot snapshot, SourceState source)
    {
        var manifest = snapshot.Manifest;
        if (!source.Clock.CanSeeAllSessions) _report.CannotSeeAllSessions();
        var now = DateTimeOffset.UtcNow;
        _noRowsBefore ??= source.NoRowsBefore;
        if (source.DayScan is { } scan)
        {
            _report.IfDayScanChanged(_exports.DayScan, scan);
            _exports.DayScan = scan;
        }
        if (source.Pass is { } pass) _report.IfBackfillPassChanged(pass);
        var decision = _planner.Next(manifest, source.Clock, source.HeldBackByLag, _noRowsBefore ?? default, now, source.Pass?.OnePass ?? false);
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

    private void StartExport(LakeManifest manifest, ReplicationStep step, SourceTable table, DateTimeOffset now, DatabaseClock? clock = null, long heldBackByLag = 0)
    {
        var runId = RunId.New(now);
        Func<DateOnly, LakeLocation?> locationFor = step is ReplicationStep.Rebuild rebuild ? _ => rebuild.Location : JobPlanner.Placement(manifest, _settings, now).LocationFor;
        var export = _exports.Start(step, table, manifest, locationFor);
        _log.Debug("Run {RunId}: exporting {Window}", runId, step.ExportWindow.Describe());
        var writer = Context.ActorOf(BatchWriter.Props(new BatchWriter.Job(step, runId, manifest, export, _watchdog), _settings, _faults), $"batch-{++_batches}");
        _watchdog.Tell(new ReplicationWatchdog.Entered(ReplicationWatchdog.Stage.Exporting, $"replicating run {runId} ({step.ExportWindow.Describe()})"));
        Context.WatchWith(writer, new BatchWriterStopped(runId));
        var batch = new ReplicationBatch(step, runId, table, now, manifest, writer) { PlannedWith = clock, HeldBackByLag = heldBackByLag };
        Become(() => Writing(batch));
    }

    private void Writing(ReplicationBatch batch)
    {
        Receive<BatchWriter.Exported>(_ => Sender.Equals(batch.Writer), _ => _exports.ReadAheadAfter(batch, _noRowsBefore ?? default));
        Receive<BatchWriter.Written>(_ => Sender.Equals(batch.Writer), written => RequestCommit(batch, written));
        Receive<BatchWriter.Failed>(_ => Sender.Equals(batch.Writer), f => Abandon(batch, new Failed(f.Stage, f.Error), f.Conflict));
        Receive<BatchWriterStopped>(s => s.RunId == batch.RunId,
            _ => Fail(new Failed("writing", new IOException("its batch writer failed and stopped; the batch's rows are written again on the retry")), batch));
        Receive<Failed>(f => Fail(f, batch));
        Receive<Tick>(_ => { });
        IgnoreLate();
    }

    private void RequestCommit(ReplicationBatch batch, BatchWriter.Written written)
    {
        var commit = ReplicationPlanner.CommitFor(batch.Step, batch.RunId, batch.StartedAt);
        if (batch.Step is ReplicationStep.Incremental incremental)
            commit = commit with { Watermark = _planner.Hold.WatermarkAfter(incremental, written.Tally.Held) };
        _coordinator.Tell(new Commit(commit with { Removes = commit.Removes.AddRange(written.Replaced) }, written.Parts, batch.Report(written, DateTimeOffset.UtcNow)));
        _watchdog.Tell(new ReplicationWatchdog.Entered(ReplicationWatchdog.Stage.Committing, $"committing run {batch.RunId}"));
        Become(() => Committing(batch, written));
    }

    private void Committing(ReplicationBatch batch, BatchWriter.Written written)
    {
        Receive<CommitSucceeded>(c =>
        {
            _planner.Hold.Committed(batch.Step, written.Tally.Held, DateTimeOffset.UtcNow);
            var progress = _planner.ProgressAfter(batch.Step, batch.StartedAt, written.Tally.Rows, _noRowsBefore ?? default);
            if (progress is not null) _listener?.Tell(progress);
            _report.Committed(batch, written, c.Manifest, progress);
            EndBatch(batch, "committed", written);
            _failures = 0;
            _conflicts = 0;
            if (batch.Step.IsDay)
                StartStep();
            else
                CycleDone(c.Manifest);
        });
        Receive<CommitFailed>(f => Abandon(batch, new Failed(f.Conflict ? "committing (the lake changed meanwhile)" : "committing", new IOException(f.Reason)), f.Conflict));
        // A coordinator that fails in the middle of a commit restarts without answering it; its
        // recovery kept or undid the commit, and the step is planned again from the lake as it
        // opened, so nothing is written twice and nothing is recorded as failed that may have landed.
        Receive<CoordinatorRestarted>(_ => Replan(batch, "the coordinator restarted during its commit; the step is planned from the lake as it opened"));
        Receive<Tick>(_ => { });
        IgnoreLate();
    }

    /// <summary>A batch that lost a race with compaction or retention is planned again at once, a few times; any other failure waits for the backoff.</summary>
    private void Abandon(ReplicationBatch batch, Failed failed, bool conflict)
    {
        if (conflict && ++_conflicts <= MaxConflictRetries)
            Replan(batch, $"the lake changed meanwhile ({failed.Error.Message})");
        else
            Fail(failed, batch);
    }

    /// <summary>The batch is abandoned and its step planned again now, as a failure that cannot have committed it need not wait.</summary>
    private void Replan(ReplicationBatch batch, string why)
    {
        _log.Info("Run {RunId} is planned again: {Reason}", batch.RunId, why);
        _planner.Retry(batch.Step);
        _planner.Hold.Drop();
        EndBatch(batch, "replanned");
        StartStep();
    }

    private void CycleDone(LakeManifest manifest)
    {
        _watchdog.Tell(ReplicationWatchdog.CycleSucceeded.Instance);
        _listener?.Tell(new CycleCompleted(true, null, manifest));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, _settings.ReplicationInterval);
    }

    private void Fail(Failed failed, ReplicationBatch? batch = null)
    {
        var error = failed.Error.Cause();
        var message = $"{failed.Stage}: {SourceProblem.Describe(error, _server)}";
        // 1 s, 2 s, 4 s, … up to the replication interval (at least a minute).
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, _failures++), Math.Max(_settings.ReplicationInterval.TotalSeconds, 60)));
        _report.Abandoned(message, _job.Repeats ? delay : null, _failures);
        _watchdog.Tell(new ReplicationWatchdog.CycleFailed(message));
        _exports.Drop();
        _planner.Hold.Drop();
        var now = DateTimeOffset.UtcNow;
        if (batch is not null) EndBatch(batch, "failed");
        _coordinator.Tell(new RecordFailure(batch?.Report(null, now) ?? RunReport.BeforeAnyBatch(now), message));
        _listener?.Tell(new CycleCompleted(false, message, null));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, delay);
    }

    /// <summary>
    /// A batch is over: its writer stops, and with it its shard-day writers, deleting any part still
    /// .tmp. A repair that did not commit stays marked in the manifest and is tried again.
    /// </summary>
    private void EndBatch(ReplicationBatch batch, string outcome, BatchWriter.Written? written = null)
    {
        Context.Unwatch(batch.Writer);
        Context.Stop(batch.Writer);
        ReplicationLog.Record(batch, written, outcome);
    }
}
