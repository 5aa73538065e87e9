using Akka.Actor;
using Akka.Event;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// One per lake. Takes the writer lock, loads the manifest and recovers the lake, then alone
/// changes the manifest and the watermark, one commit at a time. All file work runs off the
/// actor thread and comes back as messages; requests that arrive meanwhile are stashed.
/// </summary>
public sealed class LakeCoordinator : ReceiveActor, IWithStash, IWithTimers
{
    private sealed record Loaded(LakeLock Lock, LakeManifest Manifest, RecoveryReport Recovery);

    private sealed record LoadFailed(Exception Error);

    private sealed record Committed(LakeManifest Manifest, IActorRef ReplyTo, RunReport Report, ReplicationState State);

    private sealed record CommitError(Exception Error, IActorRef ReplyTo, RunReport Report);

    private sealed record DeletionsDone(LakeManifest Manifest, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings);

    private readonly LakeSettings _settings;
    private readonly IActorRef? _lifecycle;
    private readonly IFaultPoints _faults;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ManifestStore _store;
    private readonly ReplicationStateStore _stateStore;
    private readonly LakeRoots _roots;
    private LakeLock? _lock;
    private Task? _inFlight;
    private LakeManifest _manifest = null!;
    private ReplicationState? _replication;

    public LakeCoordinator(LakeSettings settings, IActorRef? lifecycle, IFaultPoints? faults = null)
    {
        _settings = settings;
        _lifecycle = lifecycle;
        _faults = faults ?? FaultPoints.None;
        _store = new ManifestStore(settings.StatePath);
        _stateStore = new ReplicationStateStore(settings.StatePath);
        _roots = new LakeRoots(settings.HotPath, settings.ColdPath);
        Loading();
    }

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LakeSettings settings, IActorRef? lifecycle, IFaultPoints? faults = null) =>
        Akka.Actor.Props.Create(() => new LakeCoordinator(settings, lifecycle, faults));

    protected override void PreStart()
    {
        var settings = _settings;
        var store = _store;
        var roots = _roots;
        Task.Run(() => Load(settings, store, roots)).PipeTo(Self, success: l => l, failure: e => new LoadFailed(e));
    }

    private static Loaded Load(LakeSettings settings, ManifestStore store, LakeRoots roots)
    {
        var lakeLock = LakeLock.Acquire(settings.StatePath, $"akkalake (pid {Environment.ProcessId})");
        try
        {
            var now = DateTimeOffset.UtcNow;
            var manifest = store.Load();
            if (manifest is null)
            {
                manifest = LakeManifest.Create(settings.Shards, now);
                store.Save(manifest);
            }
            else if (manifest.Shards != settings.Shards)
            {
                throw new InvalidOperationException(
                    $"The lake at {settings.HotPath} was built with {manifest.Shards} shards but CORE_ANALYSIS_LAKE_SHARDS is {settings.Shards}. Set it back to {manifest.Shards}, or rebuild the lake into an empty hot path.");
            }
            var (recovered, report) = new LakeRecovery(store, roots).Recover(manifest, now);
            return new Loaded(lakeLock, recovered, report);
        }
        catch
        {
            lakeLock.Dispose();
            throw;
        }
    }

    private void Loading()
    {
        Receive<Loaded>(l =>
        {
            _lock = l.Lock;
            _manifest = l.Manifest;
            _replication = _stateStore.Load();
            LogRecovery(l.Recovery);
            _log.Info("Lake ready at {HotPath}: {Partitions} partitions, {Files} files, watermark {Watermark}, commit {CommitSeq}",
                _settings.HotPath, _manifest.Metrics.Partitions.Count, _manifest.Files().Count(),
                _manifest.Metrics.ComputedThroughTs is { } w ? Timestamps.Format(w) : "none", _manifest.CommitSeq);
            Timers.StartPeriodicTimer("delete-due", DeleteDueFiles.Instance, TimeSpan.FromSeconds(30));
            _lifecycle?.Tell(new Ready(_manifest, l.Recovery));
            Become(Serving);
            Stash.UnstashAll();
        });
        Receive<LoadFailed>(f =>
        {
            var reason = f.Error is AggregateException { InnerException: { } inner } ? inner.Message : f.Error.Message;
            _log.Error("The lake cannot be opened: {Reason}", reason);
            _lifecycle?.Tell(new StartFailed(reason));
            Context.Stop(Self);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Serving()
    {
        Receive<GetManifest>(_ => Sender.Tell(new ManifestSnapshot(_manifest)));
        Receive<Commit>(c =>
        {
            var current = _manifest;
            var replyTo = Sender;
            var committer = new LakeCommitter(_store, _roots, _faults);
            var grace = _settings.DeleteGrace;
            var previous = _replication;
            var stateStore = _stateStore;
            var lateWindow = _settings.LateWindowHours;
            _inFlight = Task.Run(() =>
            {
                var next = committer.Commit(current, c.Change, c.Parts, DateTimeOffset.UtcNow, grace);
                var state = c.Report.ApplyTo(previous, next, lateWindow, null);
                stateStore.Save(state);
                return new Committed(next, replyTo, c.Report, state);
            });
            ((Task<Committed>)_inFlight).PipeTo(Self, success: r => r, failure: e => new CommitError(e, replyTo, c.Report));
            BecomeStacked(Committing);
        });
        Receive<RecordFailure>(f =>
        {
            _replication = f.Report.ApplyTo(_replication, _manifest, _settings.LateWindowHours, f.Error);
            var state = _replication;
            var stateStore = _stateStore;
            Task.Run(() => stateStore.Save(state)).PipeTo(Self, success: () => Status.Success.Instance, failure: e => new Status.Failure(e));
        });
        Receive<Status.Success>(_ => { });
        Receive<Status.Failure>(f => _log.Warning("Could not write replication.json: {Error}", f.Cause.Message));
        Receive<DeleteDueFiles>(_ =>
        {
            if (!_manifest.PendingDeletions.Any(d => d.DueAt <= DateTimeOffset.UtcNow)) return;
            var recovery = new LakeRecovery(_store, _roots);
            var manifest = _manifest;
            Task.Run(() =>
            {
                var warnings = new List<string>();
                var (next, deleted) = recovery.DeleteDue(manifest, DateTimeOffset.UtcNow, warnings);
                return new DeletionsDone(next, deleted, warnings);
            }).PipeTo(Self, success: d => d, failure: e => new Status.Failure(e));
            BecomeStacked(Committing);
        });
    }

    private void Committing()
    {
        Receive<Committed>(c =>
        {
            _manifest = c.Manifest;
            _replication = c.State;
            _log.Debug("Committed {Kind} run {RunId} as commit {CommitSeq}: {Rows} rows in {Files} files ({Bytes} bytes), watermark {Watermark}",
                [c.Report.Kind, c.Report.RunId, c.Manifest.CommitSeq, c.Report.Rows, c.Report.Files, c.Report.Bytes,
                    c.Manifest.Metrics.ComputedThroughTs is { } w ? Timestamps.Format(w) : "none"]);
            c.ReplyTo.Tell(new CommitSucceeded(c.Manifest));
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        Receive<CommitError>(e =>
        {
            var error = e.Error is AggregateException { InnerException: { } inner } ? inner : e.Error;
            var conflict = error is ManifestConflictException;
            _log.Warning("Commit of {Kind} run {RunId} failed: {Error}", e.Report.Kind, e.Report.RunId,
                conflict ? "the lake changed meanwhile; the run will be retried. " + error.Message : error.Message);
            // The manifest on disk may now hold a pending commit; undo it before serving again.
            try
            {
                var onDisk = _store.Load() ?? _manifest;
                var (recovered, report) = new LakeRecovery(_store, _roots).Recover(onDisk, DateTimeOffset.UtcNow);
                _manifest = recovered;
                LogRecovery(report);
            }
            catch (Exception recoveryError)
            {
                _log.Error(recoveryError, "Could not undo the failed commit; stopping so the lake is recovered on restart");
                throw;
            }
            e.ReplyTo.Tell(new CommitFailed(error.Message, conflict));
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        Receive<DeletionsDone>(d =>
        {
            _manifest = d.Manifest;
            if (d.Deleted.Count > 0)
                _log.Info("Deleted {Files} files whose grace period ended", d.Deleted.Count);
            foreach (var w in d.Warnings) _log.Warning("{Warning}", w);
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

    private void LogRecovery(RecoveryReport r)
    {
        if (r.UndoneCommit is { } u)
            _log.Warning("Recovery: commit {CommitSeq} ({Kind}, run {RunId}) was interrupted before it committed; undone, {Files} files removed",
                u.CommitSeq, u.Kind, u.RunId, u.Files.Count);
        if (r.RemovedTmpFiles.Count > 0)
            _log.Info("Recovery: removed {Files} unfinished .tmp files", r.RemovedTmpFiles.Count);
        if (r.RemovedUnreferencedParts.Count > 0)
            _log.Warning("Recovery: removed {Files} part files that no commit references: {Paths}", r.RemovedUnreferencedParts.Count, string.Join(", ", r.RemovedUnreferencedParts.Take(10)));
        if (r.DeletedDueFiles.Count > 0)
            _log.Info("Recovery: deleted {Files} files whose grace period ended", r.DeletedDueFiles.Count);
        foreach (var w in r.Warnings) _log.Warning("Recovery: {Warning}", w);
    }

    /// <summary>On shutdown a commit under way is let finish (it is atomic either way) before the lock is released.</summary>
    protected override void PostStop()
    {
        try { _inFlight?.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
        _lock?.Dispose();
    }
}
