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
/// actor thread, and asks the coordinator to have a day that differs rebuilt. When each day was
/// checked is saved to <c>reconcile.json</c> off the actor thread too. A failed check is logged and
/// tried again at a later tick; it never stops the daemon.
/// </summary>
public sealed class ReconciliationActor : ReceiveActor, IWithTimers
{
    public sealed record Check
    {
        public static readonly Check Instance = new();
    }

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
    private readonly Dictionary<DateOnly, DateTimeOffset> _lastChecked;
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
        _lastChecked = _store.Load();
        _activity = new Activity("reconciliation", "waiting for a day to be due", DateTimeOffset.UtcNow);
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinator, LakeSettings settings, ReconcileSchedule schedule, TimeSpan tick, IFaultPoints faults) =>
        Akka.Actor.Props.Create(() => new ReconciliationActor(coordinator, settings, schedule, tick, faults));

    protected override void PreStart() => Timers.StartPeriodicTimer("check", Check.Instance, _tick);

    protected override void PostStop()
    {
        _stopping.Cancel();
        _dataSource.Dispose();
    }

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, _activity.Doing, message);

    private void Common()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<StateSaved>(_ => { });
        Receive<StateSaveFailed>(f => _log.Warning("Could not write reconcile.json: {Error}; days checked since the last write are checked again after a restart", f.Error.Cause().Message));
        Receive<LakeChanged>(_ => { });
    }

    private void Idle()
    {
        Common();
        Receive<Check>(_ => _coordinator.Tell(GetManifest.Instance));
        Receive<ManifestSnapshot>(s => TryStart(s.Manifest));
    }

    private void TryStart(LakeManifest manifest)
    {
        var now = DateTimeOffset.UtcNow;
        if (_schedule.Next(manifest, _lastChecked, now) is not { } day) return;
        _reconciler.CheckAsync(manifest, day, _stopping.Token)
            .PipeTo(Self, success: r => new Checked(r, now), failure: e => new CheckFailed(day, e));
        _activity = new Activity("reconciliation", $"checking {LakeLayout.DateKey(day)} against PostgreSQL", now);
        Become(Checking);
    }

    private void Checking()
    {
        Common();
        Receive<Check>(_ => { });
        Receive<ManifestSnapshot>(_ => { });
        Receive<Checked>(c =>
        {
            var result = c.Result;
            var durationMs = (long)(DateTimeOffset.UtcNow - c.StartedAt).TotalMilliseconds;
            _lastChecked[result.Day] = c.StartedAt;
            SaveState();
            LakeMetrics.ReconciledDays.Add(1, LakeMetrics.Tag("outcome", result.Differs ? "differ" : "agree"));
            if (!result.Differs)
            {
                _log.Info("Checked {Date} against PostgreSQL: its {Rows} rows agree, in {DurationMs} ms", LakeLayout.DateKey(result.Day), result.LakeRows, durationMs);
            }
            else
            {
                var first = result.Shards[0];
                _log.Warning("{Date} differs from PostgreSQL in {Shards} shards: {SourceRows} rows there, {LakeRows} in the lake (e.g. sensor {Sensor} in shard {Shard}); " +
                    "rebuilding the day from PostgreSQL. Deleted readings, readings stamped behind the watermark or without inserted_at do this",
                    [LakeLayout.DateKey(result.Day), result.Shards.Count, result.SourceRows, result.LakeRows, first.ExampleSensor, first.Shard]);
                _coordinator.Tell(new RebuildDay(result.Day, $"{result.Shards.Count} shards differ from PostgreSQL"));
            }
            BecomeIdle();
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
                _lastChecked[f.Day] = DateTimeOffset.UtcNow;
                _log.Warning("Could not check {Date} against PostgreSQL: {Error}; it is tried again when it is next due", LakeLayout.DateKey(f.Day), error.Message);
            }
            BecomeIdle();
        });
    }

    private void BecomeIdle()
    {
        _activity = new Activity("reconciliation", "waiting for a day to be due", DateTimeOffset.UtcNow);
        Become(Idle);
    }

    /// <summary>Writes when each day was checked, after any write still under way.</summary>
    private void SaveState()
    {
        var snapshot = new Dictionary<DateOnly, DateTimeOffset>(_lastChecked);
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
