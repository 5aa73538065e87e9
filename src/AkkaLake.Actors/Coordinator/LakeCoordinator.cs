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
/// (commits, undoing a failed one, deletions, replication.json) runs off the actor thread, in
/// order (<see cref="SerialWork"/>), and comes back as a message of its own; requests that change
/// the manifest wait in the stash meanwhile, and <see cref="GetStatus"/> is answered in every mode.
/// </summary>
public sealed class LakeCoordinator : ReceiveActor, IWithStash, IWithTimers
{
    private sealed record Opened(LakeOpener.Opened Lake, ReplicationState? Replication);

    private sealed record OpenFailed(Exception Error);

    private sealed record Committed(LakeManifest Manifest, IActorRef ReplyTo, string Description, ReplicationState? State);

    private sealed record CommitError(Exception Error, IActorRef ReplyTo, string Description);

    private sealed record Undone(LakeManifest Manifest, PendingCommit? Commit, IActorRef ReplyTo, string Reason, bool Conflict);

    private sealed record UndoFailed(Exception Error);

    private sealed record StateSaved
    {
        public static readonly StateSaved Instance = new();
    }

    private sealed record StateSaveFailed(Exception Error);

    private sealed record DeletionsDone(LakeManifest Manifest, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings);

    private sealed record DeletionsFailed(Exception Error);

    private sealed record LockReleased
    {
        public static readonly LockReleased Instance = new();
    }

    private readonly LakeSettings _settings;
    private readonly IActorRef? _lifecycle;
    private readonly IFaultPoints _faults;
    private readonly CompactionPolicy _policy;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorLog _report;
    private readonly LakeChanges _changes;
    private readonly SerialWork _work;
    private readonly List<IActorRef> _watchers = [];
    private readonly bool _reconcile;
    private readonly SortedSet<DateOnly> _daysToRebuild = [];
    private LakeLock? _lock;
    private LakeManifest _manifest = null!;
    private ReplicationState? _replication;
    private string _mode = "opening the lake";

    public LakeCoordinator(LakeSettings settings, IActorRef? lifecycle, IFaultPoints faults, CompactionPolicy policy, bool reconcile, SerialWork work)
    {
        _reconcile = reconcile && settings.ReconcileInterval > TimeSpan.Zero;
        _settings = settings;
        _lifecycle = lifecycle;
        _faults = faults;
        _policy = policy;
        _work = work;
        _changes = new LakeChanges(settings, new ManifestStore(settings.StatePath), _faults);
        _report = new CoordinatorLog(_log, settings);
        Loading();
    }

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="reconcile">Check the lake against PostgreSQL on the schedule (the daemon; not one-off jobs).</param>
    public static Props Props(LakeSettings settings, IActorRef? lifecycle, IFaultPoints? faults = null, CompactionPolicy? policy = null, bool reconcile = false)
    {
        // One per props, so every incarnation of this coordinator waits for the last one's file work.
        var work = new SerialWork();
        return Akka.Actor.Props.Create(() => new LakeCoordinator(settings, lifecycle, faults ?? FaultPoints.None, policy ?? CompactionPolicy.Default, reconcile, work));
    }

    protected override void PreStart()
    {
        var settings = _settings;
        var changes = _changes;
        _work.Then(() => new Opened(LakeOpener.Open(settings, $"akkalake (pid {Environment.ProcessId})", createOrAdopt: true), changes.LoadState()))
            .PipeTo(Self, success: opened => opened, failure: e => new OpenFailed(e));
    }

    /// <summary>Never waits: the lock is released now, or once the file work under way is done (a restarted coordinator opens the lake after that).</summary>
    protected override void PostStop()
    {
        if (_lock is not { } held) return;
        if (_work.Idle) held.Dispose();
        else _work.Then(held.Dispose);
    }

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, _mode, message);

    private void ReceiveStatus() => Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus(_mode, _manifest)));

    private void Loading()
    {
        ReceiveStatus();
        Receive<Opened>(o =>
        {
            _lock = o.Lake.Lock;
            _manifest = o.Lake.Manifest;
            _replication = o.Replication;
            _report.Opened(_manifest, o.Lake.Recovery, o.Lake.Adopted);
            StartChildren();
            Timers.StartPeriodicTimer("delete-due", DeleteDueFiles.Instance, TimeSpan.FromSeconds(30));
            _lifecycle?.Tell(new Ready(_manifest, o.Lake.Recovery));
            BecomeServing();
            Stash.UnstashAll();
            Announce();
        });
        Receive<OpenFailed>(f =>
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
            Supervised(ReconciliationActor.Props(Self, _settings, schedule, tick, _faults), "reconciliation");
        }
    }

    private IActorRef Supervised(Props child, string name) =>
        Context.ActorOf(BackoffSupervisor.Props(Backoff.OnFailure(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.2, -1)), name + "-supervisor");

    private void Announce()
    {
        LakeMetrics.Publish(_manifest);
        foreach (var w in _watchers) w.Tell(new LakeChanged(_manifest));
    }

    private void BecomeServing()
    {
        _mode = "serving";
        Become(Serving);
    }

    private void Serving()
    {
        ReceiveStatus();
        Receive<GetManifest>(_ => Sender.Tell(new ManifestSnapshot(_manifest, _daysToRebuild.Count == 0 ? null : new SortedSet<DateOnly>(_daysToRebuild))));
        Receive<RebuildDay>(r => _daysToRebuild.Add(r.Day));
        Receive<RebuildTaken>(t => _daysToRebuild.Remove(t.Day));
        Receive<Commit>(c =>
        {
            var previous = _replication;
            var changes = _changes;
            var lateWindow = _settings.LateWindowHours;
            RunCommit($"{c.Change.Kind} run {c.Change.RunId}", current =>
            {
                var next = changes.Commit(current, c.Change, c.Parts);
                return (next, c.Report?.ApplyTo(previous, next, lateWindow, null));
            });
        });
        Receive<MovePartition>(m => RunCommit($"move of {LakeLayout.DateKey(m.Date)} to {m.To}", current => (_changes.Move(current, m.Date, m.From, m.To, m.Copied), null)));
        Receive<ExpirePartition>(e => RunCommit($"expiry of {LakeLayout.DateKey(e.Date)}", current => (_changes.Expire(current, e.Date), null)));
        Receive<RecordFailure>(f =>
        {
            _replication = f.Report.ApplyTo(_replication, _manifest, _settings.LateWindowHours, f.Error);
            SaveState(_replication);
        });
        Receive<StateSaved>(_ => { });
        Receive<StateSaveFailed>(f => _log.Warning("Could not write replication.json: {Error}; the manifest holds the watermark, and the next run writes the file again", f.Error.Cause().Message));
        Receive<DeleteDueFiles>(_ =>
        {
            if (!_manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) return;
            var manifest = _manifest;
            var changes = _changes;
            _work.Then(() => changes.DeleteDue(manifest))
                .PipeTo(Self, success: d => new DeletionsDone(d.Next, d.Deleted, d.Warnings), failure: e => new DeletionsFailed(e));
            BecomeWorking("deleting files past their grace period");
        });
        Receive<Drain>(_ =>
        {
            // Released after the file work under way, before the stop, so whoever asked can open the lake at once.
            var held = _lock;
            _lock = null;
            _work.Then(() =>
                {
                    held?.Dispose();
                    return LockReleased.Instance;
                })
                .PipeTo(Self);
            _mode = "releasing the lake to stop";
            BecomeStacked(() =>
            {
                ReceiveStatus();
                Receive<LockReleased>(_ => Context.Stop(Self));
                ReceiveAny(_ => Stash.Stash());
            });
        });
    }

    /// <summary>Writes replication.json after the file work already asked for; its answer comes back as its own message.</summary>
    private void SaveState(ReplicationState state)
    {
        var changes = _changes;
        _work.Then(() =>
            {
                changes.SaveState(state);
                return StateSaved.Instance;
            })
            .PipeTo(Self, success: saved => saved, failure: e => new StateSaveFailed(e));
    }

    /// <summary>Runs one manifest change off the actor thread; requests that change the manifest wait in the stash until it is answered.</summary>
    private void RunCommit(string description, Func<LakeManifest, (LakeManifest Next, ReplicationState? State)> work)
    {
        var current = _manifest;
        var replyTo = Sender;
        _work.Then(() =>
            {
                var (next, state) = work(current);
                return new Committed(next, replyTo, description, state);
            })
            .PipeTo(Self, success: r => r, failure: e => new CommitError(e, replyTo, description));
        BecomeWorking("committing the " + description);
    }

    private void BecomeWorking(string what)
    {
        _mode = what;
        BecomeStacked(Working);
    }

    /// <summary>File work that changes the manifest is under way: its answer, and only its, is served; the rest waits.</summary>
    private void Working()
    {
        ReceiveStatus();
        Receive<Committed>(c =>
        {
            _manifest = c.Manifest;
            _log.Debug("Committed {What} as commit {CommitSeq}", c.Description, c.Manifest.CommitSeq);
            c.ReplyTo.Tell(new CommitSucceeded(c.Manifest));
            if (c.State is { } state)
            {
                _replication = state;
                SaveState(state);
            }
            Resume();
            Announce();
            if (_manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) Self.Tell(DeleteDueFiles.Instance);
        });
        Receive<CommitError>(e =>
        {
            var error = e.Error.Cause();
            var conflict = error is ManifestConflictException;
            _report.NotCommitted(e.Description, error, conflict);
            LakeMetrics.CommitFailures.Add(1);
            var inMemory = _manifest;
            var changes = _changes;
            _work.Then(() =>
                {
                    var (recovered, undone) = changes.UndoFailed(inMemory);
                    return new Undone(recovered, undone, e.ReplyTo, error.Message, conflict);
                })
                .PipeTo(Self, success: u => u, failure: f => new UndoFailed(f));
            _mode = "undoing the failed " + e.Description;
        });
        Receive<Undone>(u =>
        {
            _manifest = u.Manifest;
            _report.Undid(u.Commit);
            u.ReplyTo.Tell(new CommitFailed(u.Reason, u.Conflict));
            Resume();
        });
        Receive<UndoFailed>(f =>
        {
            _log.Error(f.Error.Cause(), "Could not undo the failed commit; the coordinator restarts, and the lake is recovered when it opens again");
            throw new IOException("The failed commit could not be undone.", f.Error.Cause());
        });
        Receive<DeletionsDone>(d =>
        {
            _manifest = d.Manifest;
            _report.DeletedDue(d.Deleted, d.Warnings);
            Resume();
        });
        Receive<DeletionsFailed>(f =>
        {
            _log.Warning("Deleting files past their grace period failed: {Error}; it is tried again in 30 s", f.Error.Cause().Message);
            Resume();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Resume()
    {
        _mode = "serving";
        UnbecomeStacked();
        Stash.UnstashAll();
    }
}
