using Akka.Actor;
using Akka.Event;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;

namespace AkkaLake.Actors.Daemon;

/// <summary>How a daemon run ended, for the process exit code.</summary>
public sealed record DaemonOutcome(bool Succeeded, string? Error);

/// <summary>
/// The root of the pipeline: starts the coordinator, and once the lake is loaded and recovered,
/// the replication actor. Reports the outcome: a start failure at once, and with
/// a one-off job the result of that job.
/// </summary>
public sealed class LakeDaemon : ReceiveActor
{
    /// <summary>The coordinator's name under the daemon, for a health check to find it.</summary>
    public const string CoordinatorName = "coordinator";

    private const string ReplicationName = "replication";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>How the daemon makes its two children; a test puts stand-ins in their place.</summary>
    /// <param name="Coordinator">The coordinator's props, given the daemon it reports to.</param>
    /// <param name="Replication">The replication actor's props, given the coordinator and the daemon.</param>
    public sealed record Children(Func<IActorRef, Props> Coordinator, Func<IActorRef, IActorRef, Props> Replication)
    {
        public static Children For(LakeSettings settings, ReplicationJob job, IFaultPoints? faults) => new(
            daemon => LakeCoordinator.Props(settings, daemon, faults, reconcile: job.Repeats),
            (coordinator, daemon) => ReplicationActor.Props(settings, coordinator, daemon, job, faults));
    }

    public LakeDaemon(Children children, bool repeats, Action<DaemonOutcome> onOutcome, Action<DaysProgress>? onProgress)
    {
        var coordinator = Context.ActorOf(children.Coordinator(Self), CoordinatorName);
        Context.Watch(coordinator);

        Receive<CoordinatorProtocol.Ready>(_ =>
        {
            // A restarted coordinator is ready again: the replication actor carries on with it,
            // giving up on a commit the coordinator failed in the middle of.
            var replication = Context.Child(ReplicationName);
            if (replication.IsNobody())
                Context.ActorOf(children.Replication(coordinator, Self), ReplicationName);
            else
                replication.Tell(ReplicationProtocol.CoordinatorRestarted.Instance);
        });
        Receive<DaysProgress>(p => onProgress?.Invoke(p));
        Receive<CoordinatorProtocol.StartFailed>(f => onOutcome(new DaemonOutcome(false, f.Reason)));
        Receive<ReplicationProtocol.CycleCompleted>(c =>
        {
            if (!repeats) onOutcome(new DaemonOutcome(c.Succeeded, c.Error));
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(coordinator))
            {
                _log.Error("The lake coordinator stopped; the daemon stops too");
                onOutcome(new DaemonOutcome(false, "the lake coordinator stopped"));
            }
        });
    }

    /// <param name="onProgress">Called after each day of a backfill, takeover or rebuild by hand, for a command's progress bar.</param>
    public static Props Props(LakeSettings settings, ReplicationJob job, Action<DaemonOutcome> onOutcome, IFaultPoints? faults = null, Action<DaysProgress>? onProgress = null) =>
        Props(Children.For(settings, job, faults), job.Repeats, onOutcome, onProgress);

    public static Props Props(Children children, bool repeats, Action<DaemonOutcome> onOutcome, Action<DaysProgress>? onProgress = null) =>
        Akka.Actor.Props.Create(() => new LakeDaemon(children, repeats, onOutcome, onProgress));

    /// <summary>A failing child (a bug, or a replication that cannot start) is restarted; the coordinator only with a clean reload.</summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: _ => Directive.Restart);
}
