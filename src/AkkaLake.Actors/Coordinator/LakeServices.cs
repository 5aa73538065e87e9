using Akka.Actor;
using Akka.Pattern;
using AkkaLake.Actors.Compaction;
using AkkaLake.Actors.Reconciliation;
using AkkaLake.Actors.Retention;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// The actors that keep an open lake in shape, children of its coordinator: compaction, retention
/// and (in the daemon) reconciliation. Each runs under a backoff supervisor: a crash restarts it
/// after 1 s, 2 s, … up to a minute, and never stops replication.
/// </summary>
internal static class LakeServices
{
    /// <summary>Starts them; the ones to tell of every change of the lake are returned.</summary>
    public static IReadOnlyList<IActorRef> Start(IActorContext context, IActorRef coordinator, LakeSettings settings, CompactionPolicy policy, IFaultPoints faults, bool reconcile)
    {
        var watchers = new List<IActorRef>
        {
            Supervised(context, CompactionActor.Props(coordinator, settings, policy, faults), "compaction"),
            Supervised(context, RetentionActor.Props(coordinator, settings, faults), "retention"),
        };
        if (reconcile)
        {
            var schedule = new ReconcileSchedule(settings.ReconcileInterval, settings.ReconcileRecentInterval);
            var tick = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, settings.ReconcileRecentInterval.Ticks));
            Supervised(context, ReconciliationActor.Props(coordinator, settings, schedule, tick, faults), "reconciliation");
        }
        return watchers;
    }

    private static IActorRef Supervised(IActorContext context, Props child, string name) =>
        context.ActorOf(BackoffSupervisor.Props(Backoff.OnFailure(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.2, -1)), name + "-supervisor");
}
