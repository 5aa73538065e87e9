using Akka.Actor;
using AkkaLake.Actors;
using AkkaLake.Actors.Compaction;
using AkkaLake.Actors.Retention;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Retention;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Actors;

/// <summary>
/// The coordinator's children on a slow disk or NAS (a pause at a fault point): they answer what
/// they are doing at once, and stop at once, whatever file work is under way.
/// </summary>
public class SlowWorkTests : LakeTestKit
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan InTime = TimeSpan.FromMilliseconds(700);

    private static LakeSettings SettingsFor(LakeFixture lake) => LakeSettingsParser.Parse(new Dictionary<string, string?>
    {
        ["hot-path"] = lake.Roots.Hot,
        ["cold-path"] = lake.Roots.Cold,
        ["shards"] = "1",
    });

    private static Activity Doing(IActorRef actor) => actor.Ask<Activity>(Activity.Query.Instance, InTime).Result;

    [Fact]
    public void Compaction_answers_during_a_slow_merge_and_stopped_then_stops_at_once_leaving_no_output()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2);
        for (var tick = 0; tick < 4; tick++) lake.Tick(day, LakeFixture.FiveSensorsAt(day, tick));
        var coordinator = CreateTestProbe();
        var compaction = Sys.ActorOf(CompactionActor.Props(coordinator, SettingsFor(lake), CompactionPolicy.Default, new ScriptedFaults().Pause("compaction.merge", Slow)));
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));

        AwaitCondition(() => Doing(compaction).Doing.StartsWith("merging", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Watch(compaction);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Sys.Stop(compaction);
        ExpectTerminated(compaction, TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < InTime, $"the stop took {clock.Elapsed.TotalMilliseconds:0} ms");

        // The merge ends after the stop and finds it: it keeps no output.
        Thread.Sleep(Slow + TimeSpan.FromSeconds(1));
        coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Empty(Directory.GetFiles(lake.Roots.Hot, "*.tmp", SearchOption.AllDirectories));
        Assert.True(lake.DiskMatchesManifest());
    }

    [Fact]
    public void Retention_answers_while_a_refused_move_is_slowly_deleted_from_the_nas()
    {
        using var lake = new LakeFixture(withCold: true);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-100);
        lake.Tick(day, LakeFixture.FiveSensorsAt(day, 0));
        var coordinator = CreateTestProbe();
        var retention = Sys.ActorOf(RetentionActor.Props(coordinator, SettingsFor(lake), new ScriptedFaults().Pause("move.discard", Slow)));
        retention.Tell(new ManifestSnapshot(lake.Manifest), coordinator);
        var move = coordinator.ExpectMsg<MovePartition>(TimeSpan.FromSeconds(20));

        coordinator.Reply(new CommitFailed("the partition changed meanwhile", Conflict: true));
        coordinator.ExpectMsg<GetManifest>(InTime);
        Assert.StartsWith("waiting", Doing(retention).Doing);
        var staged = move.Copied.Select(p => LakeLayout.Resolve(lake.Roots.Cold!, PartitionCopier.StagedCopy(p))).ToList();
        Assert.All(staged, path => Assert.True(File.Exists(path)));
        AwaitAssert(() => Assert.All(staged, path => Assert.False(File.Exists(path))), Slow + TimeSpan.FromSeconds(5));
    }
}
