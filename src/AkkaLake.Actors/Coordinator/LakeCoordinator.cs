using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// One per lake, and the only one that changes its manifest. Opening: takes the writer lock,
/// loads the manifest and recovers the lake (<see cref="LakeOpener"/>). Serving: runs one change
/// at a time (commits, moves, expiries, rebuild marks, deletions past their grace; the protocol is
/// <see cref="LakeChanges"/>'s) off the actor's thread, in order with all the lake's file work
/// (<see cref="SerialWork"/>), while further changes wait in the stash; a commit that fails is
/// undone before the next. Draining: lets the work under way finish and releases the lake. It
/// starts the lake's other actors (<see cref="LakeServices"/>), has <c>replication.json</c> kept by
/// <see cref="ReplicationStateWriter"/>, and answers <see cref="GetStatus"/> in every mode.
/// </summary>
public sealed class LakeCoordinator : ReceiveActor, IWithStash, IWithTimers
{
    /// <summary>The lake while it is open: the manifest as committed, and who hears of its changes.</summary>
    private sealed record OpenLake(LakeManifest Manifest, IActorRef StateWriter, IReadOnlyList<IActorRef> Watchers);

    /// <summary>A change of the manifest under way: what it is, since when, who asked, and the run it records.</summary>
    private sealed record Change(string Description, DateTimeOffset Since, IActorRef? ReplyTo, RunReport? Report, bool UndoneOnFailure);

    private sealed record Opened(LakeOpener.Opened Lake, ReplicationState? Replication);

    private sealed record OpenFailed(Exception Error);

    private sealed record Changed(LakeManifest Manifest, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings);

    private sealed record ChangeFailed(Exception Error);

    private sealed record Undone(LakeManifest Manifest, PendingCommit? Commit);

    private sealed record UndoFailed(Exception Error);

    private sealed record LockReleased
    {
        public static readonly LockReleased Instance = new();
    }

    private readonly LakeSettings _settings;
    private readonly IActorRef? _lifecycle;
    private readonly IFaultPoints _faults;
    private readonly CompactionPolicy _policy;
    private readonly bool _reconcile;
    private readonly SerialWork _work;
    private readonly LakeChanges _changes;
    private readonly CoordinatorLog _report;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // Released when the actor stops, whatever its mode: the one thing it holds outside its modes.
    private LakeLock? _lock;

    public LakeCoordinator(LakeSettings settings, IActorRef? lifecycle, IFaultPoints faults, CompactionPolicy policy, bool reconcile, SerialWork work)
    {
        _settings = settings;
        _lifecycle = lifecycle;
        _faults = faults;
        _policy = policy;
        _reconcile = reconcile && settings.ReconcileInterval > TimeSpan.Zero;
        _work = work;
        _changes = new LakeChanges(settings, new ManifestStore(settings.StatePath), faults);
        _report = new CoordinatorLog(_log, settings);
        Opening(DateTimeOffset.UtcNow);
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
        var (settings, changes) = (_settings, _changes);
        _work.Then(() => new Opened(LakeOpener.Open(settings, $"akkalake (pid {Environment.ProcessId})", createOrAdopt: true, changes.Store), changes.LoadState()))
            .PipeTo(Self, success: opened => opened, failure: e => new OpenFailed(e));
    }

    /// <summary>Never waits: the lock is released now, or once the file work under way is done (a restarted coordinator opens the lake after that).</summary>
    protected override void PostStop()
    {
        if (_lock is not { } held) return;
        if (_work.Idle) held.Dispose();
        else _work.Then(held.Dispose);
    }

    private void Opening(DateTimeOffset since)
    {
        Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus("opening the lake", null, since)));
        Receive<Opened>(o =>
        {
            _lock = o.Lake.Lock;
            var manifest = o.Lake.Manifest;
            _report.Opened(manifest, o.Lake.Recovery, o.Lake.Adopted);
            var writer = Context.ActorOf(ReplicationStateWriter.Props(_changes, _work, o.Replication, _settings.LateWindowHours), "replication-state");
            var lake = new OpenLake(manifest, writer, LakeServices.Start(Context, Self, _settings, _policy, _faults, _reconcile));
            Timers.StartPeriodicTimer("delete-due", DeleteDueFiles.Instance, TimeSpan.FromSeconds(30));
            _lifecycle?.Tell(new Ready(manifest, o.Lake.Recovery));
            Serve(lake);
        });
        Receive<OpenFailed>(f =>
        {
            _lifecycle?.Tell(new StartFailed(_report.CannotOpen(f.Error.Cause()), f.Error.Cause() is LakeLockedException));
            Context.Stop(Self);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Serves <paramref name="lake"/>: announces it to the lake's actors and takes the changes that waited meanwhile.</summary>
    private void Serve(OpenLake lake)
    {
        LakeMetrics.Publish(lake.Manifest);
        foreach (var watcher in lake.Watchers) watcher.Tell(new LakeChanged(lake.Manifest));
        Become(() => Serving(lake));
        Stash.UnstashAll();
        if (lake.Manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) Self.Tell(DeleteDueFiles.Instance);
    }

    private void Serving(OpenLake lake)
    {
        var since = DateTimeOffset.UtcNow;
        Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus("serving", lake.Manifest, since)));
        Receive<GetManifest>(_ => Sender.Tell(new ManifestSnapshot(lake.Manifest)));
        Receive<Commit>(c => Run(lake, new Change($"{c.Change.Kind} run {c.Change.RunId}", DateTimeOffset.UtcNow, Sender, c.Report, true),
            (changes, current) => Landed(changes.Commit(current, c.Change, c.Parts))));
        Receive<MovePartition>(m => Run(lake, new Change($"move of {LakeLayout.DateKey(m.Date)} to {m.To}", DateTimeOffset.UtcNow, Sender, null, true),
            (changes, current) => Landed(changes.Move(current, m.Date, m.From, m.To, m.Copied))));
        Receive<ExpirePartition>(e => Run(lake, new Change($"expiry of {LakeLayout.DateKey(e.Date)}", DateTimeOffset.UtcNow, Sender, null, true),
            (changes, current) => Landed(changes.Expire(current, e.Date))));
        Receive<MarkForRebuild>(m => Run(lake, new Change($"mark of {LakeLayout.DateKey(m.Day)} to rebuild", DateTimeOffset.UtcNow, Sender, null, false),
            (changes, current) => Landed(changes.MarkForRebuild(current, m.Day, new RebuildMark(m.FoundAt, m.Reason)))));
        Receive<DeleteDueFiles>(_ =>
        {
            if (!lake.Manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) return;
            Run(lake, new Change("deletion of files past their grace period", DateTimeOffset.UtcNow, null, null, false), (changes, current) =>
            {
                var (next, deleted, warnings) = changes.DeleteDue(current);
                return new Changed(next, deleted, warnings);
            });
        });
        Receive<RecordFailure>(f => lake.StateWriter.Tell(new ReplicationStateWriter.Record(f.Report, lake.Manifest, f.Error)));
        Receive<Drain>(_ => Drain(lake));
        ReceiveAny(m => Defects.Unhandled(_log, Self, "serving", m));
    }

    private static Changed Landed(LakeManifest next) => new(next, [], []);

    /// <summary>Runs one change of the manifest off the actor's thread; changes asked for meanwhile wait in the stash.</summary>
    private void Run(OpenLake lake, Change change, Func<LakeChanges, LakeManifest, Changed> work)
    {
        var (changes, current) = (_changes, lake.Manifest);
        _work.Then(() => work(changes, current)).PipeTo(Self, success: c => c, failure: e => new ChangeFailed(e));
        Become(() => Working(lake, change));
    }

    private void Working(OpenLake lake, Change change)
    {
        Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus("committing the " + change.Description, lake.Manifest, change.Since)));
        Receive<Changed>(c =>
        {
            _log.Debug("Committed the {What} as commit {CommitSeq}", change.Description, c.Manifest.CommitSeq);
            change.ReplyTo?.Tell(new CommitSucceeded(c.Manifest));
            if (change.Report is { } report) lake.StateWriter.Tell(new ReplicationStateWriter.Record(report, c.Manifest, null));
            _report.DeletedDue(c.Deleted, c.Warnings);
            Serve(lake with { Manifest = c.Manifest });
        });
        Receive<ChangeFailed>(f =>
        {
            var error = f.Error.Cause();
            var conflict = error is ManifestConflictException;
            _report.NotDone(change.Description, error, conflict);
            if (!change.UndoneOnFailure)
            {
                change.ReplyTo?.Tell(new CommitFailed(error.Message, conflict));
                Serve(lake);
                return;
            }
            LakeMetrics.CommitFailures.Add(1);
            var (changes, inMemory) = (_changes, lake.Manifest);
            _work.Then(() =>
                {
                    var (recovered, undone) = changes.UndoFailed(inMemory);
                    return new Undone(recovered, undone);
                })
                .PipeTo(Self, success: u => u, failure: e => new UndoFailed(e));
            Become(() => Undoing(lake, change, error.Message, conflict));
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Undoing(OpenLake lake, Change change, string reason, bool conflict)
    {
        var since = DateTimeOffset.UtcNow;
        Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus("undoing the failed " + change.Description, lake.Manifest, since)));
        Receive<Undone>(u =>
        {
            _report.Undid(u.Commit);
            change.ReplyTo?.Tell(new CommitFailed(reason, conflict));
            Serve(lake with { Manifest = u.Manifest });
        });
        Receive<UndoFailed>(f =>
        {
            _log.Error(f.Error.Cause(), "Could not undo the failed commit; the coordinator restarts, and the lake is recovered when it opens again");
            throw new IOException("The failed commit could not be undone.", f.Error.Cause());
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>The lock is released after the file work under way, before the stop, so whoever asked can open the lake at once.</summary>
    private void Drain(OpenLake lake)
    {
        var held = _lock;
        _lock = null;
        _work.Then(() =>
            {
                held?.Dispose();
                return LockReleased.Instance;
            })
            .PipeTo(Self);
        var since = DateTimeOffset.UtcNow;
        Become(() =>
        {
            Receive<GetStatus>(_ => Sender.Tell(new CoordinatorStatus("releasing the lake to stop", lake.Manifest, since)));
            Receive<LockReleased>(_ => Context.Stop(Self));
            ReceiveAny(_ => Stash.Stash());
        });
    }
}
