using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using Npgsql;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Reconciliation;

/// <summary>
/// Heals what replication cannot see (deletes, rows stamped behind the watermark, rows without
/// inserted_at): on its schedule it checks one hot day at a time against PostgreSQL, off the
/// actor thread, and has a day that differs marked in the manifest for the replication actor to
/// rebuild. When each day was checked is read from and saved to <c>reconcile.json</c> off the actor
/// thread too; a day that differs counts as checked only once its mark is in the manifest. A
/// failed check is logged and tried again at a later tick; it never stops the daemon.
/// </summary>
public sealed class ReconciliationActor : ReceiveActor, IWithTimers, IWithStash
{
    public sealed record Check
    {
        public static readonly Check Instance = new();
    }

    private sealed record Loaded(Dictionary<DateOnly, DateTimeOffset> LastChecked);

    private sealed record Checked(DayCheck Result, DateTimeOffset StartedAt);

    private sealed record CheckFailed(DateOnly Day, Exception Error);

    private sealed record StateSaved
    {
        public static readonly StateSaved Instance = new();
    }

    private sealed record StateSaveFailed(Exception Error);

    private readonly IActorRef _coordinator;
    private readonly ReconcileSchedule _schedule;
    private readonly TimeSpan _tick;
    private readonly NpgsqlDataSource _dataSource;
    private readonly Reconciler _reconciler;
    private readonly ReconcileStateStore _store;
    private readonly IFaultPoints _faults;
    private readonly SerialWork _saves = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private Activity _activity;

    public ReconciliationActor(IActorRef coordinator, LakeSettings settings, ReconcileSchedule schedule, TimeSpan tick, IFaultPoints faults)
    {
        _coordinator = coordinator;
        _schedule = schedule;
        _tick = tick;
        _faults = faults;
        _dataSource = NpgsqlDataSource.Create(DatabaseUrl.ConnectionStringOf(settings));
        _reconciler = new Reconciler(_dataSource, settings.Roots);
        _store = new ReconcileStateStore(settings.StatePath);
        _activity = new Activity("reconciliation", "reading when each day was checked", DateTimeOffset.UtcNow);
        Loading();
    }

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public static Props Props(IActorRef coordinator, LakeSettings settings, ReconcileSchedule schedule, TimeSpan tick, IFaultPoints faults) =>
        Akka.Actor.Props.Create(() => new ReconciliationActor(coordinator, settings, schedule, tick, faults));

    protected override void PreStart()
    {
        var store = _store;
        _saves.Then(() => new Loaded(store.Load())).PipeTo(Self, success: l => l, failure: _ => new Loaded([]));
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _dataSource.Dispose();
    }

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, _activity.Doing, message);

    private void Loading()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<Loaded>(l =>
        {
            Timers.StartPeriodicTimer("check", Check.Instance, _tick);
            BecomeIdle(l.LastChecked);
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Common()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<StateSaved>(_ => { });
        Receive<StateSaveFailed>(f => _log.Warning("Could not write reconcile.json: {Error}; days checked since the last write are checked again after a restart", f.Error.Cause().Message));
        Receive<LakeChanged>(_ => { });
    }

    private void Idle(Dictionary<DateOnly, DateTimeOffset> lastChecked)
    {
        Common();
        Receive<Check>(_ => _coordinator.Tell(GetManifest.Instance));
        Receive<ManifestSnapshot>(s => TryStart(s.Manifest, lastChecked));
    }

    private void TryStart(LakeManifest manifest, Dictionary<DateOnly, DateTimeOffset> lastChecked)
    {
        var now = DateTimeOffset.UtcNow;
        if (_schedule.Next(manifest, lastChecked, now) is not { } day) return;
        _reconciler.CheckAsync(manifest, day, _stopping.Token)
            .PipeTo(Self, success: r => new Checked(r, now), failure: e => new CheckFailed(day, e));
        _activity = new Activity("reconciliation", $"checking {LakeLayout.DateKey(day)} against PostgreSQL", now);
        Become(() => Checking(lastChecked));
    }

    private void Checking(Dictionary<DateOnly, DateTimeOffset> lastChecked)
    {
        Common();
        Receive<Check>(_ => { });
        Receive<ManifestSnapshot>(_ => { });
        Receive<Checked>(c =>
        {
            var result = c.Result;
            var durationMs = (long)(DateTimeOffset.UtcNow - c.StartedAt).TotalMilliseconds;
            LakeMetrics.ReconciledDays.Add(1, LakeMetrics.Tag("outcome", result.Differs ? "differ" : "agree"));
            if (!result.Differs)
            {
                _log.Info("Checked {Date} against PostgreSQL: its {Rows} rows agree, in {DurationMs} ms", LakeLayout.DateKey(result.Day), result.LakeRows, durationMs);
                Record(lastChecked, result.Day, c.StartedAt);
                BecomeIdle(lastChecked);
                return;
            }
            var first = result.Shards[0];
            _log.Warning("{Date} differs from PostgreSQL in {Shards} shards: {SourceRows} rows there, {LakeRows} in the lake (e.g. sensor {Sensor} in shard {Shard}); " +
                "rebuilding the day from PostgreSQL. Deleted readings, readings stamped behind the watermark or without inserted_at do this",
                [LakeLayout.DateKey(result.Day), result.Shards.Count, result.SourceRows, result.LakeRows, first.ExampleSensor, first.Shard]);
            _coordinator.Tell(new MarkForRebuild(result.Day, $"{result.Shards.Count} shards differ from PostgreSQL", c.StartedAt));
            Become(() => Marking(lastChecked, result.Day, c.StartedAt));
        });
        Receive<CheckFailed>(f =>
        {
            var error = f.Error.Cause();
            LakeMetrics.ReconciledDays.Add(1, LakeMetrics.Tag("outcome", "failed"));
            if (error is ManifestConflictException)
                _log.Info("Checking {Date} against PostgreSQL was cut short: the lake changed meanwhile; it is checked again at the next tick", LakeLayout.DateKey(f.Day));
            else
            {
                // Counted as checked, so a day that cannot be read is tried once per interval, not at every tick.
                Record(lastChecked, f.Day, DateTimeOffset.UtcNow);
                _log.Warning("Could not check {Date} against PostgreSQL: {Error}; it is tried again when it is next due", LakeLayout.DateKey(f.Day), error.Message);
            }
            BecomeIdle(lastChecked);
        });
    }

    /// <summary>Waits for the day's rebuild mark to be in the manifest; only then is the day checked.</summary>
    private void Marking(Dictionary<DateOnly, DateTimeOffset> lastChecked, DateOnly day, DateTimeOffset startedAt)
    {
        Common();
        Receive<Check>(_ => { });
        Receive<ManifestSnapshot>(_ => { });
        Receive<CommitSucceeded>(_ =>
        {
            Record(lastChecked, day, startedAt);
            BecomeIdle(lastChecked);
        });
        Receive<CommitFailed>(f =>
        {
            _log.Warning("Could not record that {Date} differs from PostgreSQL: {Error}; it is checked again at the next tick", LakeLayout.DateKey(day), f.Reason);
            BecomeIdle(lastChecked);
        });
    }

    private void BecomeIdle(Dictionary<DateOnly, DateTimeOffset> lastChecked)
    {
        _activity = new Activity("reconciliation", "waiting for a day to be due", DateTimeOffset.UtcNow);
        Become(() => Idle(lastChecked));
    }

    /// <summary>Records when the day was checked and writes them all, after any write still under way.</summary>
    private void Record(Dictionary<DateOnly, DateTimeOffset> lastChecked, DateOnly day, DateTimeOffset at)
    {
        lastChecked[day] = at;
        var snapshot = new Dictionary<DateOnly, DateTimeOffset>(lastChecked);
        var store = _store;
        var faults = _faults;
        _saves.Then(() =>
            {
                faults.Hit("reconcile.save");
                store.Save(snapshot);
                return StateSaved.Instance;
            })
            .PipeTo(Self, success: s => s, failure: e => new StateSaveFailed(e));
    }
}
