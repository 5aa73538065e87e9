using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Daemon;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Spill;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Reliability;

/// <summary>The coordinator fails and is restarted in the process while a batch is under way: it opens the lake again around that batch.</summary>
[Collection(PostgresCollection.Name)]
public class CoordinatorRestartTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    [Fact]
    public async Task A_coordinator_restarted_in_the_middle_of_a_spilling_backfill_leaves_its_runs_alone_and_every_row_is_committed_once()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddDays(-4), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(2), sensors: 20, bySensor: true);
        var settings = Settings(source.ConnectionString, 2, ("first-backfill-read", "one-pass"), ("max-buffered-rows", "20000"));
        var faults = new ScriptedFaults();
        var spilled = faults.Hold("writer.after-spill");
        var outcome = new TaskCompletionSource<DaemonOutcome>();
        var daemon = Sys.ActorOf(LakeDaemon.Props(settings, new ReplicationJob.Once(), new DaemonListener(o => outcome.TrySetResult(o)), faults), "lake");

        // The first run is spilled and its writer held: the coordinator is killed now, and its supervisor restarts it.
        await spilled.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        var runs = Directory.GetFiles(new SpillArea(settings.TmpPath, settings.HotPath).ProcessDirectory, "*.run", SearchOption.AllDirectories);
        Assert.NotEmpty(runs);
        var coordinator = await Sys.ActorSelection(daemon.Path / LakeDaemon.CoordinatorName).ResolveOne(TimeSpan.FromSeconds(10));
        var killedAt = DateTimeOffset.UtcNow;
        coordinator.Tell(Kill.Instance);
        // Its new incarnation has opened the lake again (and cleared what it may clear of the scratch).
        AwaitCondition(() => coordinator.Ask<CoordinatorProtocol.CoordinatorStatus>(CoordinatorProtocol.GetStatus.Instance, TimeSpan.FromSeconds(10)).Result
            is { Mode: "serving" } status && status.Since > killedAt, TimeSpan.FromSeconds(30));
        Assert.All(runs, run => Assert.True(File.Exists(run), run));

        spilled.Release();
        var done = await outcome.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(done.Succeeded, done.Error);
        Stop(daemon);
        await AssertLakeHoldsEachSourceRowOnceAsync(settings, source);
        Assert.Equal(0, CliRunner.Run("verify", "--hot-path", settings.HotPath, "--data-root", settings.DataRoot).ExitCode);
    }
}
