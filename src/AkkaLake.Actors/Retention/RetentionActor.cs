using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Retention;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Retention;

/// <summary>
/// Moves partitions past the hot horizon (or past the hot byte budget) to the cold path, or
/// expires them from a hot-only lake. A move copies and verifies every file first, then asks the
/// coordinator to make the cold copy authoritative; the hot files are deleted only after that
/// commit and its grace period. A cold path that is unavailable leaves data hot and is retried.
/// Copies, and deleting copies a refused commit left, run off the actor thread.
/// </summary>
public sealed class RetentionActor : ReceiveActor, IWithTimers
{
    public sealed record Check
    {
        public static readonly Check Instance = new();
    }

    private sealed record Copied(DateOnly Date, IReadOnlySet<string> Paths, long Bytes, DateTimeOffset StartedAt);

    private sealed record CopyFailed(DateOnly Date, Exception Error);

    private static readonly TimeSpan RetryUnavailableAfter = TimeSpan.FromMinutes(5);

    private readonly IActorRef _coordinator;
    private readonly LakeSettings _settings;
    private readonly IFaultPoints _faults;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private LakeManifest? _latest;
    private DateTimeOffset _coldUnavailableUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _lastBudgetWarning = DateTimeOffset.MinValue;
    private Activity _activity = new("retention", "waiting for a partition to pass the horizon", DateTimeOffset.UtcNow);

    public RetentionActor(IActorRef coordinator, LakeSettings settings, IFaultPoints faults)
    {
        _coordinator = coordinator;
        _settings = settings;
        _faults = faults;
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinator, LakeSettings settings, IFaultPoints faults) =>
        Akka.Actor.Props.Create(() => new RetentionActor(coordinator, settings, faults));

    protected override void PreStart() => Timers.StartPeriodicTimer("check", Check.Instance, TimeSpan.FromMinutes(1));

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, _activity.Doing, message);

    private void BecomeIdle()
    {
        _activity = new Activity("retention", "waiting for a partition to pass the horizon", DateTimeOffset.UtcNow);
        Become(Idle);
    }

    private void Idle()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<LakeChanged>(c => { _latest = c.Manifest; TryStart(); });
        Receive<ManifestSnapshot>(s => { _latest = s.Manifest; TryStart(); });
        Receive<Check>(_ => _coordinator.Tell(GetManifest.Instance));
    }

    private void Waiting()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<LakeChanged>(c => _latest = c.Manifest);
        Receive<ManifestSnapshot>(s => _latest = s.Manifest);
        Receive<Check>(_ => { });
    }

    private void TryStart()
    {
        if (_latest is not { } manifest) return;
        var now = DateTimeOffset.UtcNow;
        var plan = RetentionPlanner.Plan(manifest, DateOnly.FromDateTime(now.UtcDateTime), _settings.HotRetentionDays,
            _settings.ColdPath is not null, _settings.HotMaxBytes);
        if (plan.OverBudget && now - _lastBudgetWarning > TimeSpan.FromMinutes(10))
        {
            _lastBudgetWarning = now;
            _log.Warning("Hot usage {HotBytes} bytes is over the budget of {HotMaxBytes} bytes{Advice}",
                plan.HotBytes, plan.HotMaxBytes, _settings.ColdPath is null ? "; with no cold path nothing inside the horizon is removed for it" : "");
        }
        foreach (var action in plan.Actions)
        {
            switch (action)
            {
                case RetentionAction.Expire e:
                    _coordinator.Tell(new ExpirePartition(e.Date));
                    _activity = new Activity("retention", $"expiring {LakeLayout.DateKey(e.Date)}", now);
                    Become(() => AwaitingCommit(e.Date, $"expired ({e.Reason}); PostgreSQL still has its rows", now, 0, action: "expired"));
                    return;
                case RetentionAction.MoveToCold m when now >= _coldUnavailableUntil:
                    StartCopy(manifest, m);
                    return;
            }
        }
    }

    private void StartCopy(LakeManifest manifest, RetentionAction.MoveToCold move)
    {
        var copier = new PartitionCopier(_settings.Roots, _faults);
        var started = DateTimeOffset.UtcNow;
        var bytes = manifest.Partition(move.Date)?.Bytes ?? 0;
        _log.Debug("Moving {Date} to the cold path: {Reason}", LakeLayout.DateKey(move.Date), move.Reason);
        Task.Run(() => copier.Copy(manifest, move.Date, LakeLocation.Hot, LakeLocation.Cold))
            .PipeTo(Self, success: paths => new Copied(move.Date, paths, bytes, started), failure: e => new CopyFailed(move.Date, e));
        _activity = new Activity("retention", $"copying {LakeLayout.DateKey(move.Date)} to the cold path", started);
        Become(Copying);
    }

    private void Copying()
    {
        Waiting();
        Receive<Copied>(c =>
        {
            _coordinator.Tell(new MovePartition(c.Date, LakeLocation.Hot, LakeLocation.Cold, c.Paths));
            _activity = _activity with { Doing = $"waiting for the commit of the move of {LakeLayout.DateKey(c.Date)}" };
            Become(() => AwaitingCommit(c.Date, $"moved to the cold path {_settings.ColdPath}", c.StartedAt, c.Bytes, c.Paths, "moved"));
        });
        Receive<CopyFailed>(f =>
        {
            var error = f.Error.Cause();
            _coldUnavailableUntil = DateTimeOffset.UtcNow + RetryUnavailableAfter;
            _log.Warning("Could not move {Date} to the cold path, so it stays hot and will be retried in {RetryMinutes} min: {Error}",
                LakeLayout.DateKey(f.Date), RetryUnavailableAfter.TotalMinutes, error.Message);
            BecomeIdle();
        });
    }

    private void AwaitingCommit(DateOnly date, string what, DateTimeOffset started, long bytes, IReadOnlySet<string>? coldCopies = null, string action = "moved")
    {
        Waiting();
        Receive<CommitSucceeded>(c =>
        {
            LakeMetrics.RetentionChanges.Add(1, LakeMetrics.Tag("action", action));
            _log.Info("Partition {Date} {What}: {Bytes} bytes ({Size}) in {DurationMs} ms",
                LakeLayout.DateKey(date), what, bytes, LakeReportText.Bytes(bytes), (long)(DateTimeOffset.UtcNow - started).TotalMilliseconds);
            _latest = c.Manifest;
            BecomeIdle();
            TryStart();
        });
        Receive<CommitFailed>(f =>
        {
            _log.Info("Retention of {Date} was not committed ({Reason}); it will be retried", LakeLayout.DateKey(date), f.Reason);
            if (coldCopies is not null)
            {
                var copier = new PartitionCopier(_settings.Roots, _faults);
                _ = Task.Run(() => copier.Discard(coldCopies, LakeLocation.Cold));
            }
            BecomeIdle();
            _coordinator.Tell(GetManifest.Instance);
        });
    }
}
