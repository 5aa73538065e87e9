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
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Actors;

/// <summary>
/// The coordinator's children on a slow disk or NAS (file work held at a fault point until the
/// test lets it go): they answer what they are doing, and stop, while that work is still held.
/// What is asserted is the order, not how fast: the timeouts below only keep a broken test from hanging.
/// </summary>
public class SlowWorkTests(ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static LakeSettings SettingsFor(LakeFixture lake) => LakeSettingsParser.Parse(new Dictionary<string, string?>
    {
        ["hot-path"] = lake.Roots.Hot,
        ["cold-path"] = lake.Roots.Cold,
        ["shards"] = "1",
    });

    private static Activity Doing(IActorRef actor) => actor.Ask<Activity>(Activity.Query.Instance, Patience).Result;

    [Fact]
    public async Task Compaction_answers_during_a_held_merge_and_stops_before_it_ends_leaving_no_output()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2);
        for (var tick = 0; tick < 4; tick++) lake.Tick(day, LakeFixture.FiveSensorsAt(day, tick));
        var coordinator = CreateTestProbe();
        var faults = new ScriptedFaults();
        var merge = faults.Hold("compaction.merge");
        var compaction = Sys.ActorOf(CompactionActor.Props(coordinator, SettingsFor(lake), CompactionPolicy.Default, faults));
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));

        await merge.Reached.WaitAsync(Patience);
        Assert.StartsWith("merging", Doing(compaction).Doing);
        Watch(compaction);
        Sys.Stop(compaction);
        ExpectTerminated(compaction, Patience);
        Assert.False(merge.IsOpen);

        // The merge ends after the stop and finds it: it keeps no output, and asks for no commit.
        merge.Release();
        AwaitAssert(() => Assert.Empty(Directory.GetFiles(lake.Roots.Hot, "*.tmp", SearchOption.AllDirectories)), Patience);
        coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.True(lake.DiskMatchesManifest());
    }

    [Fact]
    public async Task Retention_answers_while_a_refused_move_is_held_deleting_from_the_nas()
    {
        using var lake = new LakeFixture(withCold: true);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-100);
        lake.Tick(day, LakeFixture.FiveSensorsAt(day, 0));
        var coordinator = CreateTestProbe();
        var faults = new ScriptedFaults();
        var discard = faults.Hold("move.discard");
        var retention = Sys.ActorOf(RetentionActor.Props(coordinator, SettingsFor(lake), faults));
        retention.Tell(new ManifestSnapshot(lake.Manifest), coordinator);
        var move = coordinator.ExpectMsg<MovePartition>(Patience);

        coordinator.Reply(new CommitFailed("the partition changed meanwhile", Conflict: true));
        coordinator.ExpectMsg<GetManifest>(Patience);
        await discard.Reached.WaitAsync(Patience);
        Assert.StartsWith("waiting", Doing(retention).Doing);
        var staged = move.Copied.Select(p => LakeLayout.Resolve(lake.Roots.Cold!, PartitionCopier.StagedCopy(p))).ToList();
        Assert.All(staged, path => Assert.True(File.Exists(path)));
        Assert.False(discard.IsOpen);

        discard.Release();
        AwaitAssert(() => Assert.All(staged, path => Assert.False(File.Exists(path))), Patience);
    }
}
