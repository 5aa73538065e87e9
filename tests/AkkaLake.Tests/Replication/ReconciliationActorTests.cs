using Akka.Actor;
using AkkaLake.Actors;
using AkkaLake.Actors.Reconciliation;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.State;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Replication;

/// <summary>The reconciliation actor against PostgreSQL, a probe in the coordinator's place.</summary>
[Collection(PostgresCollection.Name)]
public class ReconciliationActorTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    [Fact]
    public async Task Reconciliation_answers_at_once_while_a_slow_disk_records_the_day_it_checked()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        var now = DateTimeOffset.UtcNow;
        await source.InsertStampedNowAsync(0, now.AddHours(-2), now.AddMinutes(-5), TimeSpan.FromMinutes(1));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var settings = LakeSettingsParser.Parse(new Dictionary<string, string?>
        {
            ["data-root"] = lake.DataRoot,
            ["hot-path"] = lake.HotPath,
            ["shards"] = "2",
            ["database-url"] = source.ConnectionString,
        });
        var stateFile = Path.Combine(settings.StatePath, ReconcileStateStore.FileName);
        var coordinator = CreateTestProbe();

        var reconciliation = Sys.ActorOf(ReconciliationActor.Props(coordinator, settings, ReconcileSchedule.Default, TimeSpan.FromMilliseconds(200),
            new ScriptedFaults().Pause("reconcile.save", TimeSpan.FromSeconds(3))));
        coordinator.ExpectMsg<GetManifest>(TimeSpan.FromSeconds(5));
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));
        Activity Doing() => reconciliation.Ask<Activity>(Activity.Query.Instance, TimeSpan.FromMilliseconds(700)).Result;

        AwaitCondition(() => Doing().Doing.StartsWith("waiting", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.False(File.Exists(stateFile));
        Assert.StartsWith("waiting", Doing().Doing);
        AwaitAssert(() => Assert.True(File.Exists(stateFile)), TimeSpan.FromSeconds(10));
        Assert.Single(new ReconcileStateStore(settings.StatePath).Load());
    }
}
