using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using AkkaLake.Actors.Compaction;
using AkkaLake.Actors.Reconciliation;
using AkkaLake.Actors.Retention;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Telemetry;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// One per lake. Takes the writer lock, loads the manifest and recovers the lake, then alone
/// changes the manifest and the watermark, one commit at a time. It supervises the compaction and
/// retention actors (restarted with backoff; their failures never stop replication). All file work
/// runs off the actor thread and comes back as messages; requests that arrive meanwhile are stashed.
/// </summary>
public sealed class LakeCoordinator : ReceiveActor, IWithStash, IWithTimers
{
    private sealed record LoadFailed(Exception Error);

    private sealed record Committed(LakeManifest Manifest, IActorRef ReplyTo, string Description, ReplicationState? State);

    private sealed record CommitError(Exception Error, IActorRef ReplyTo, string Description);

    private sealed record DeletionsDone(LakeManifest Manifest, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings);

    private readonly LakeSettings _settings;
    private readonly IActorRef? _lifecycle;
    private readonly IFaultPoints _faults;
    private readonly CompactionPolicy _policy;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorLog _report;
    private readonly ReplicationStateStore _stateStore;
    private readonly LakeChanges _changes;
    private readonly List<IActorRef> _watchers = [];
    private readonly bool _reconcile;
    private readonly SortedSet<DateOnly> _daysToRebuild = [];
    private LakeLock? _lock;
    private Task? _inFlight;
    private LakeManifest _manifest = null!;
    private ReplicationState? _replication;

    public LakeCoordinator(LakeSettings settings, IActorRef? lifecycle, IFaultPoints? faults = null, CompactionPolicy? policy = null, bool reconcile = false)
    {
        _reconcile = reconcile && settings.ReconcileInterval > TimeSpan.Zero;
        _settings = settings;
        _lifecycle = lifecycle;
        _faults = faults ?? FaultPoints.None;
        _policy = policy ?? CompactionPolicy.Default;
        _stateStore = new ReplicationStateStore(settings.StatePath);
        _changes = new LakeChanges(settings, new ManifestStore(settings.StatePath), _stateStore, _faults);
        _report = new CoordinatorLog(_log, settings);
        Loading();
    }

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="reconcile">Check the lake against PostgreSQL on the schedule (the daemon; not one-off jobs).</param>
    public static Props Props(LakeSettings settings, IActorRef? lifecycle, IFaultPoints? faults = null, CompactionPolicy? policy = null, bool reconcile = false) =>
        Akka.Actor.Props.Create(() => new LakeCoordinator(settings, lifecycle, faults, policy, reconcile));

    protected override void PreStart()
    {
        var settings = _settings;
        Task.Run(() => LakeOpener.Open(settings, $"akkalake (pid {Environment.ProcessId})", createOrAdopt: true))
            .PipeTo(Self, success: opened => opened, failure: e => new LoadFailed(e));
    }

    private void Loading()
    {
        Receive<LakeOpener.Opened>(l =>
        {
            _lock = l.Lock;
            _manifest = l.Manifest;
            _replication = _stateStore.Load();
            _report.Opened(_manifest, l.Recovery, l.Adopted);
            StartChildren();
            Timers.StartPeriodicTimer("delete-due", DeleteDueFiles.Instance, TimeSpan.FromSeconds(30));
            _lifecycle?.Tell(new Ready(_manifest, l.Recovery));
            Become(Serving);
            Stash.UnstashAll();
            Announce();
        });
        Receive<LoadFailed>(f =>
        {
            _lifecycle?.Tell(new StartFailed(_report.CannotOpen(f.Error.Cause())));
            Context.Stop(Self);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Compaction and retention each run under a backoff supervisor: a crash restarts them after 1 s, 2 s, … up to a minute.</summary>
    private void StartChildren()
    {
        _watchers.Add(Supervised(CompactionActor.Props(Self, _settings, _policy, _faults), "compaction"));
        _watchers.Add(Supervised(RetentionActor.Props(Self, _settings, _faults), "retention"));
        if (_reconcile)
        {
            var schedule = new ReconcileSchedule(_settings.ReconcileInterval, _settings.ReconcileRecentInterval);
            var tick = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, _settings.ReconcileRecentInterval.Ticks));
            Supervised(ReconciliationActor.Props(Self, _settings, schedule, tick), "reconciliation");
        }
    }

    private IActorRef Supervised(Props child, string name) =>
        Context.ActorOf(BackoffSupervisor.Props(Backoff.OnFailure(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.2, -1)), name + "-supervisor");

    private void Announce()
    {
        LakeMetrics.Publish(_manifest);
        foreach (var w in _watchers) w.Tell(new LakeChanged(_manifest));
    }

    private void Serving()
    {
        Receive<GetManifest>(_ => Sender.Tell(new ManifestSnapshot(_manifest, _daysToRebuild.Count == 0 ? null : new SortedSet<DateOnly>(_daysToRebuild))));
        Receive<RebuildDay>(r => _daysToRebuild.Add(r.Day));
        Receive<RebuildTaken>(t => _daysToRebuild.Remove(t.Day));
        Receive<Commit>(c =>
        {
            var previous = _replication;
            RunCommit($"{c.Change.Kind} run {c.Change.RunId}", current => _changes.Commit(current, c, previous));
        });
        Receive<MovePartition>(m => RunCommit($"move of {LakeLayout.DateKey(m.Date)} to {m.To}", current => (_changes.Move(current, m), null)));
        Receive<ExpirePartition>(e => RunCommit($"expiry of {LakeLayout.DateKey(e.Date)}", current => (_changes.Expire(current, e), null)));
        Receive<RecordFailure>(f =>
        {
            _replication = f.Report.ApplyTo(_replication, _manifest, _settings.LateWindowHours, f.Error);
            var state = _replication;
            var stateStore = _stateStore;
            AfterInFlight(() =>
            {
                stateStore.Save(state);
                return true;
            }).PipeTo(Self, success: _ => Status.Success.Instance, failure: e => new Status.Failure(e));
        });
        Receive<Status.Success>(_ => { });
        Receive<Status.Failure>(f => _log.Warning("Could not write replication.json: {Error}", f.Cause.Message));
        Receive<DeleteDueFiles>(_ =>
        {
            if (!_manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) return;
            var manifest = _manifest;
            var changes = _changes;
            Task.Run(() =>
            {
                var (next, deleted, warnings) = changes.DeleteDue(manifest);
                return new DeletionsDone(next, deleted, warnings);
            }).PipeTo(Self, success: d => d, failure: e => new Status.Failure(e));
            BecomeStacked(Committing);
        });
    }

    /// <summary>Runs file work off the actor thread after the previous file work, so two writes of replication.json never overlap.</summary>
    private Task<T> AfterInFlight<T>(Func<T> work)
    {
        var task = (_inFlight ?? Task.CompletedTask).ContinueWith(_ => work(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _inFlight = task;
        return task;
    }

    /// <summary>Runs one manifest change off the actor thread; everything else waits in the stash until it is answered.</summary>
    private void RunCommit(string description, Func<LakeManifest, (LakeManifest Next, ReplicationState? State)> work)
    {
        var current = _manifest;
        var replyTo = Sender;
        var changes = _changes;
        var task = AfterInFlight(() =>
        {
            var (next, state) = work(current);
            return new Committed(changes.DeleteAtOnceWithoutGrace(next), replyTo, description, state);
        });
        task.PipeTo(Self, success: r => r, failure: e => new CommitError(e, replyTo, description));
        BecomeStacked(Committing);
    }

    private void Committing()
    {
        Receive<Committed>(c =>
        {
            _manifest = c.Manifest;
            if (c.State is not null) _replication = c.State;
            _log.Debug("Committed {What} as commit {CommitSeq}", c.Description, c.Manifest.CommitSeq);
            c.ReplyTo.Tell(new CommitSucceeded(c.Manifest));
            UnbecomeStacked();
            Stash.UnstashAll();
            Announce();
            if (_manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) Self.Tell(DeleteDueFiles.Instance);
        });
        Receive<CommitError>(e =>
        {
            var error = e.Error.Cause();
            var conflict = error is ManifestConflictException;
            _report.NotCommitted(e.Description, error, conflict);
            try
            {
                (_manifest, var undone) = _changes.UndoFailed(_manifest);
                _report.Undid(undone);
            }
            catch (Exception recoveryError)
            {
                _log.Error(recoveryError, "Could not undo the failed commit; stopping so the lake is recovered on restart");
                throw;
            }
            LakeMetrics.CommitFailures.Add(1);
            e.ReplyTo.Tell(new CommitFailed(error.Message, conflict));
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        Receive<DeletionsDone>(d =>
        {
            _manifest = d.Manifest;
            _report.DeletedDue(d.Deleted, d.Warnings);
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning("Deleting files past their grace period failed: {Error}", f.Cause.Message);
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>On shutdown a commit under way is let finish (it is atomic either way) before the lock is released.</summary>
    protected override void PostStop()
    {
        var settled = true;
        try { settled = _inFlight?.Wait(TimeSpan.FromSeconds(30)) ?? true; } catch (AggregateException) { }
        // The compaction actor, a child, has stopped: a merge it asked to commit too late stays .tmp.
        if (settled && _lock is not null) _changes.DeleteUnpublishedMerges(_manifest);
        _lock?.Dispose();
    }
}
