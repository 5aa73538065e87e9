using Akka.Actor;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Replication;

/// <summary>The replication actor against PostgreSQL, a probe in the coordinator's place: what happens to a batch whose commit the coordinator's restart leaves unanswered.</summary>
[Collection(PostgresCollection.Name)]
public class ReplicationActorTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    [Fact]
    public async Task A_commit_lost_to_a_coordinator_restart_abandons_the_batch_deletes_its_parts_and_plans_it_again_without_recording_a_failure()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        var now = DateTimeOffset.UtcNow;
        await source.InsertStampedNowAsync(0, now.AddHours(-2), now.AddMinutes(-5), TimeSpan.FromMinutes(1));
        using var lake = new LakeFixture(withCold: false);
        var settings = LakeSettingsParser.Parse(new Dictionary<string, string?>
        {
            ["hot-path"] = lake.Roots.Hot,
            ["shards"] = "1",
            ["replication-lag-seconds"] = "0",
            ["database-url"] = source.ConnectionString,
        });
        var coordinator = CreateTestProbe();
        var listener = CreateTestProbe();

        var replication = Sys.ActorOf(ReplicationActor.Props(settings, coordinator, listener, new ReplicationJob.Continuous()));
        // The probe commits as the coordinator would until a backfill day with rows asks for its commit.
        var committer = new LakeCommitter(lake.Store, lake.Roots, FaultPoints.None);
        var manifest = lake.Manifest;
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(manifest));
        Commit commit;
        while ((commit = coordinator.ExpectMsg<Commit>(TimeSpan.FromSeconds(30))).Parts.Count == 0)
        {
            manifest = committer.Commit(manifest, commit.Change, commit.Parts, DateTimeOffset.UtcNow, TimeSpan.Zero);
            coordinator.Reply(new CommitSucceeded(manifest));
            coordinator.ExpectMsg<GetManifest>();
            coordinator.Reply(new ManifestSnapshot(manifest));
        }
        Assert.All(commit.Parts, p => Assert.True(File.Exists(p.Written.TmpPath), p.Written.TmpPath));

        replication.Tell(ReplicationProtocol.CoordinatorRestarted.Instance);

        // Planned again at once from the manifest the restarted coordinator opened, so a commit that did
        // land is not written twice; nothing is recorded as failed, since it may have landed.
        coordinator.ExpectMsg<GetManifest>(TimeSpan.FromSeconds(10));
        AwaitCondition(() => commit.Parts.All(p => !File.Exists(p.Written.TmpPath)), TimeSpan.FromSeconds(10));
        listener.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
