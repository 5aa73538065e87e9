using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using AkkaLake.Actors.Daemon;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Telemetry;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Actors;

/// <summary>The daemon root alone: probes stand in for the coordinator and the replication actor.</summary>
public class LakeDaemonTests(ITestOutputHelper output) : TestKit(LakeTestKit.Quiet, output)
{
    private sealed record Started(IActorRef Child, IActorRef? Coordinator);

    /// <summary>Tells its probe it started (and with which coordinator), then forwards what it receives.</summary>
    private sealed class StandIn : ReceiveActor
    {
        public StandIn(IActorRef probe, IActorRef? coordinator)
        {
            probe.Tell(new Started(Self, coordinator));
            ReceiveAny(m => probe.Forward(m));
        }
    }

    private sealed record Run(IActorRef Daemon, TestProbe Coordinator, TestProbe Replication, TestProbe Outcomes, IActorRef CoordinatorChild);

    private Run Start(bool repeats)
    {
        var coordinator = CreateTestProbe();
        var replication = CreateTestProbe();
        var outcomes = CreateTestProbe();
        var children = new LakeDaemon.Children(
            _ => Props.Create(() => new StandIn(coordinator.Ref, null)),
            (c, _) => Props.Create(() => new StandIn(replication.Ref, c)));
        var daemon = Sys.ActorOf(LakeDaemon.Props(children, repeats, new DaemonListener(o => outcomes.Ref.Tell(o), p => outcomes.Ref.Tell(p))));
        return new Run(daemon, coordinator, replication, outcomes, coordinator.ExpectMsg<Started>().Child);
    }

    private static Ready ReadyMessage() => new(LakeManifest.Create(16, DateTimeOffset.UtcNow), new RecoveryReport(null, [], [], [], []));

    [Fact]
    public void Replication_starts_once_the_coordinator_is_ready_and_hears_when_a_restarted_coordinator_is_ready_again()
    {
        var run = Start(repeats: true);
        run.Replication.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        run.Daemon.Tell(ReadyMessage(), run.CoordinatorChild);
        Assert.Equal(run.CoordinatorChild, run.Replication.ExpectMsg<Started>().Coordinator);

        run.Daemon.Tell(ReadyMessage(), run.CoordinatorChild);
        run.Replication.ExpectMsg<ReplicationProtocol.CoordinatorRestarted>();
        run.Replication.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_coordinator_that_cannot_start_ends_the_run_with_its_reason()
    {
        var run = Start(repeats: true);
        run.Daemon.Tell(new StartFailed("the lake is locked by another process"));
        Assert.Equal(new DaemonOutcome(false, "the lake is locked by another process"), run.Outcomes.ExpectMsg<DaemonOutcome>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_one_off_job_ends_with_its_cycle_and_a_repeating_one_carries_on(bool repeats)
    {
        var run = Start(repeats);
        run.Daemon.Tell(ReadyMessage(), run.CoordinatorChild);
        run.Replication.ExpectMsg<Started>();

        run.Daemon.Tell(new ReplicationProtocol.CycleCompleted(false, "PostgreSQL is unreachable", null));
        if (repeats)
            run.Outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        else
            Assert.Equal(new DaemonOutcome(false, "PostgreSQL is unreachable"), run.Outcomes.ExpectMsg<DaemonOutcome>());
    }

    [Fact]
    public void The_run_ends_when_the_coordinator_stops()
    {
        var run = Start(repeats: true);
        Sys.Stop(run.CoordinatorChild);
        Assert.Equal(new DaemonOutcome(false, "the lake coordinator stopped"), run.Outcomes.ExpectMsg<DaemonOutcome>());
    }

    [Fact]
    public void Days_of_progress_reach_the_listener_in_order()
    {
        var run = Start(repeats: false);
        run.Daemon.Tell(new DaysProgress(1, 3, 100, TimeSpan.FromSeconds(1), 1, 2));
        run.Daemon.Tell(new DaysProgress(2, 3, 250, TimeSpan.FromSeconds(2), 2, 1));
        Assert.Equal(1, run.Outcomes.ExpectMsg<DaysProgress>().DaysDone);
        Assert.Equal(2, run.Outcomes.ExpectMsg<DaysProgress>().DaysDone);
    }
}
