using Akka.Actor;
using Akka.Event;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;

namespace AkkaLake.Actors.Daemon;

/// <summary>How a daemon run ended, for the process exit code.</summary>
/// <param name="LakeInUse">It could not start because another writer holds the lake.</param>
public sealed record DaemonOutcome(bool Succeeded, string? Error, bool LakeInUse = false);

/// <summary>What the daemon's host is told: how the run ended, a long job's progress, and whether replication is running.</summary>
/// <param name="OnReplication">Called with why replication is down (null once it runs again), for the health checks and <c>status</c>.</param>
public sealed record DaemonListener(Action<DaemonOutcome> OnOutcome, Action<DaysProgress>? OnProgress = null, Action<string?>? OnReplication = null);

/// <summary>
/// The root of the pipeline: starts the coordinator, and once the lake is loaded and recovered,
/// the replication actor, and watches both. Reports the outcome: a start failure at once, with a
/// one-off job the result of that job, and a child that stopped for good (the coordinator failing
/// over and over, replication failing <see cref="MaxReplicationCrashes"/> times within
/// <see cref="CrashWindow"/>) as a failure that ends the process, so launchd starts it afresh.
/// </summary>
public sealed class LakeDaemon : ReceiveActor
{
    /// <summary>The coordinator's name under the daemon, for a health check to find it.</summary>
    public const string CoordinatorName = "coordinator";

    private const string ReplicationName = "replication";

    public const int MaxReplicationCrashes = 5;
    public static readonly TimeSpan CrashWindow = TimeSpan.FromMinutes(2);

    /// <summary>Answered at once: why replication is down, if it is.</summary>
    public sealed record GetHealth
    {
        public static readonly GetHealth Instance = new();
    }

    /// <param name="ReplicationDown">Why replication is not running now; null while it runs (or before the lake is open).</param>
    public sealed record Health(string? ReplicationDown);

    /// <summary>Answer to <see cref="CoordinatorProtocol.Drain"/> once the coordinator has finished its file work and stopped.</summary>
    public sealed record Drained
    {
        public static readonly Drained Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DaemonListener _listener;
    private readonly bool _repeats;
    private readonly List<DateTimeOffset> _crashes = [];
    private IActorRef? _replication;
    // Why replication is down: its actor failing (a crash) or its watchdog finding it stuck; what status and /healthz say.
    private string? _crashed;
    private string? _stuck;
    private string? _replicationDown;
    private IActorRef? _drainRequester;
    private bool _coordinatorStopped;

    /// <summary>How the daemon makes its two children; a test puts stand-ins in their place.</summary>
    /// <param name="Coordinator">The coordinator's props, given the daemon it reports to.</param>
    /// <param name="Replication">The replication actor's props, given the coordinator and the daemon.</param>
    public sealed record Children(Func<IActorRef, Props> Coordinator, Func<IActorRef, IActorRef, Props> Replication)
    {
        public static Children For(LakeSettings settings, ReplicationJob job, IFaultPoints? faults) => new(
            daemon => LakeCoordinator.Props(settings, daemon, faults, reconcile: job.Repeats),
            (coordinator, daemon) => ReplicationActor.Props(settings, coordinator, daemon, job, faults));
    }

    public LakeDaemon(Children children, bool repeats, DaemonListener listener)
    {
        _listener = listener;
        _repeats = repeats;
        var coordinator = Context.ActorOf(children.Coordinator(Self), CoordinatorName);
        Context.Watch(coordinator);

        Receive<CoordinatorProtocol.Ready>(_ =>
        {
            // A restarted coordinator is ready again: the replication actor carries on with it,
            // giving up on a commit the coordinator failed in the middle of.
            if (_replication is null)
            {
                _replication = Context.ActorOf(children.Replication(coordinator, Self), ReplicationName);
                Context.Watch(_replication);
            }
            else
                _replication.Tell(ReplicationProtocol.CoordinatorRestarted.Instance);
        });
        Receive<DaysProgress>(p => _listener.OnProgress?.Invoke(p));
        Receive<CoordinatorProtocol.StartFailed>(f =>
        {
            // The coordinator stops after saying why: that stop is this failure, not another.
            _coordinatorStopped = true;
            _listener.OnOutcome(new DaemonOutcome(false, f.Reason, f.LakeInUse));
        });
        Receive<ReplicationProtocol.CycleCompleted>(c =>
        {
            if (c.Succeeded) CrashedBecause(null);
            if (!_repeats) _listener.OnOutcome(new DaemonOutcome(c.Succeeded, c.Error));
        });
        Receive<ReplicationWatchdog.Stuck>(s =>
        {
            _stuck = s.Reason;
            Publish();
        });
        Receive<ReplicationProtocol.Crashed>(c => ReplicationCrashed(c.Error));
        Receive<GetHealth>(_ => Sender.Tell(new Health(_replicationDown)));
        Receive<CoordinatorProtocol.Drain>(_ =>
        {
            if (_replication is { } replication) Context.Stop(replication);
            if (_coordinatorStopped)
            {
                Sender.Tell(Drained.Instance);
                return;
            }
            _drainRequester = Sender;
            coordinator.Tell(CoordinatorProtocol.Drain.Instance);
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(coordinator) && _coordinatorStopped) return;
            if (t.ActorRef.Equals(coordinator)) _coordinatorStopped = true;
            if (_drainRequester is { } asker)
            {
                if (t.ActorRef.Equals(coordinator)) asker.Tell(Drained.Instance);
            }
            else if (t.ActorRef.Equals(coordinator))
            {
                _log.Error("The lake coordinator stopped; the daemon stops too");
                _listener.OnOutcome(new DaemonOutcome(false, "the lake coordinator stopped"));
            }
            else if (t.ActorRef.Equals(_replication))
            {
                var reason = $"replication stopped{(_replicationDown is { } why ? $" ({why})" : "")}";
                CrashedBecause(reason);
                _log.Error("The replication actor stopped; the daemon stops too, so that it is started afresh: {Reason}", reason);
                _listener.OnOutcome(new DaemonOutcome(false, reason));
            }
        });
    }

    public static Props Props(LakeSettings settings, ReplicationJob job, DaemonListener listener, IFaultPoints? faults = null) =>
        Props(Children.For(settings, job, faults), job.Repeats, listener);

    public static Props Props(Children children, bool repeats, DaemonListener listener) =>
        Akka.Actor.Props.Create(() => new LakeDaemon(children, repeats, listener));

    /// <summary>
    /// A failing child (a bug, or a replication that cannot start) is restarted; the coordinator
    /// with a clean reload. Replication's failures are counted by the daemon itself (it is told of
    /// each), so Akka's own limit is the coordinator's.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: _ => Directive.Restart);

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, "running", message);

    private void ReplicationCrashed(string error)
    {
        var now = DateTimeOffset.UtcNow;
        _crashes.RemoveAll(at => now - at > CrashWindow);
        _crashes.Add(now);
        CrashedBecause($"the replication actor failed ({error}) and restarts in {ReplicationActor.RestartDelay.TotalSeconds:0} s; failure {_crashes.Count} of {MaxReplicationCrashes} allowed within {CrashWindow.TotalMinutes:0} min");
        _log.Error("The replication actor failed: {Error}; it restarts in {DelaySeconds} s ({Failures} failures within {WindowMinutes} min; at {MaxFailures} the daemon stops)",
            error, ReplicationActor.RestartDelay.TotalSeconds, _crashes.Count, CrashWindow.TotalMinutes, MaxReplicationCrashes);
        if (_repeats && _crashes.Count < MaxReplicationCrashes) return;
        var reason = _repeats
            ? $"replication failed {_crashes.Count} times within {CrashWindow.TotalMinutes:0} min; the last failure: {error}"
            : $"replication failed: {error}";
        CrashedBecause(reason);
        Context.Unwatch(_replication!);
        Context.Stop(_replication!);
        _listener.OnOutcome(new DaemonOutcome(false, reason));
    }

    private void CrashedBecause(string? reason)
    {
        _crashed = reason;
        Publish();
    }

    private void Publish()
    {
        var down = _crashed ?? (_stuck is { } stuck ? "stuck: " + stuck : null);
        if (down == _replicationDown) return;
        _replicationDown = down;
        _listener.OnReplication?.Invoke(down);
    }
}
