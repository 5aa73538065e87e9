using AkkaLake.Demo;
using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class ConnectionLossTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    [Fact]
    public async Task Replication_should_abandon_a_batch_whose_connection_drops_mid_copy_and_write_it_once_on_retry()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = new SourceDatabase(await postgres.CreateDatabaseAsync());
        await using (var c = await source.OpenAsync())
        {
            await SampleReadings.CreateSchemaAsync(c);
            await SampleReadings.InsertAsync(c, 10, TimeSpan.FromMinutes(5), t0.AddHours(-4), t0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        }
        await source.ServeThroughSlowViewAsync(TimeSpan.FromMilliseconds(5));
        var settings = Settings(source.ConnectionString, 2);
        var coordinator = StartCoordinator(settings);
        var replication = StartReplication(settings, coordinator);

        await using (var admin = await source.OpenAsync())
        {
            var killed = false;
            for (var i = 0; i < 500 && !killed; i++)
            {
                await using var kill = new NpgsqlCommand(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY (SELECT%' AND now() - query_start > interval '200 milliseconds' AND pid <> pg_backend_pid()", admin);
                killed = (long)(await kill.ExecuteScalarAsync())! > 0;
                if (!killed) await Task.Delay(20);
            }
            Assert.True(killed, "the COPY was never seen running");
        }

        var failed = NextCycle();

        Assert.False(failed.Succeeded);
        Assert.Contains("exporting rows", failed.Error);
        var afterFailure = new ManifestStore(settings.StatePath).Load()!;
        Assert.Null(afterFailure.PendingCommit);
        Assert.Null(afterFailure.Metrics.ComputedThroughTs);
        await AwaitAssertAsync(() => Assert.Equal(ReplicationState.Failed, new ReplicationStateStore(settings.StatePath).Load()?.LastRunStatus), TimeSpan.FromSeconds(5));
        await AwaitAssertAsync(() => Assert.Empty(Directory.GetFiles(settings.HotPath, "*.tmp", SearchOption.AllDirectories)), TimeSpan.FromSeconds(5));

        await source.StopServingThroughSlowViewAsync();
        replication.Tell(ReplicationProtocol.Tick.Instance);
        Assert.True(NextCycle().Succeeded);
        await AssertLakeHoldsEachSourceRowOnceAsync(settings, source);
    }
}
