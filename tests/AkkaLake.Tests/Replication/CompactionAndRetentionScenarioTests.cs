using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class CompactionAndRetentionScenarioTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private LakeSettings Settings(string databaseUrl, int retentionDays = 90, string? cold = null) =>
        Settings(databaseUrl, 1, ("hot-retention-days", retentionDays.ToString()), ("cold-path", cold), ("delete-grace-seconds", "0"));

    private static Task InsertAsync(SourceDatabase source, int firstSensor, DateTimeOffset from, DateTimeOffset to) =>
        source.InsertStampedNowAsync(firstSensor, from, to, TimeSpan.FromMinutes(30), sensors: 3);

    [Fact]
    public async Task Compaction_should_merge_the_small_parts_of_replication_ticks_while_the_daemon_runs()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        var today = DateOnly.FromDateTime(T0.UtcDateTime);
        var start = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await InsertAsync(source, 0, start, start.AddMinutes(1));
        var settings = Settings(source.ConnectionString);
        var coordinator = StartCoordinator(settings, policy: CompactionPolicy.Default);
        var replication = StartReplication(settings, coordinator);
        NextCycle();

        for (var tick = 1; tick <= 3; tick++)
        {
            await InsertAsync(source, tick * 10, start, start.AddMinutes(1));
            replication.Tell(ReplicationProtocol.Tick.Instance);
            Assert.True(NextCycle().Succeeded);
        }

        await AwaitAssertAsync(() =>
        {
            var files = Manifest(coordinator).Partition(today)!.Shards["00"].Files;
            Assert.Contains(files, f => f.Level == 1 && f.Name.StartsWith("compact-", StringComparison.Ordinal));
            Assert.Equal(2, files.Count);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        var rows = LakeDuckDb.ReadManifest(Manifest(coordinator), settings.HotPath);
        Assert.Equal((await source.RowsAsync()).Count, rows.Count);
    }

    [Fact]
    public async Task Retention_should_move_old_partitions_to_cold_expire_them_without_a_cold_path_and_leave_them_hot_when_cold_is_gone()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await InsertAsync(source, 0, T0.AddDays(-4), T0.AddMinutes(-5));
        var oldDay = DateOnly.FromDateTime(T0.AddDays(-4).UtcDateTime);

        // Written with a 10-day horizon, the old days are hot.
        var settings = Settings(source.ConnectionString, retentionDays: 10);
        var coordinator = StartCoordinator(settings);
        var replication = StartReplication(settings, coordinator);
        Assert.True(NextCycle().Succeeded);
        Stop(replication);
        Stop(coordinator);
        var expected = (await source.RowsAsync()).Count;

        // A 2-day horizon with a cold path that is not there: a warning, and the data stays hot.
        var missingCold = Path.Combine(Dir.Path, "nas-not-mounted");
        EventFilter.Warning(contains: "stays hot").ExpectOne(TimeSpan.FromSeconds(30), () =>
        {
            coordinator = StartCoordinator(Settings(source.ConnectionString, retentionDays: 2, cold: missingCold));
        });
        Assert.Equal(LakeLocation.Hot, Manifest(coordinator).Partition(oldDay)!.Location);
        Stop(coordinator);

        // With the cold path mounted, the old days move there; the lake still holds every row.
        Directory.CreateDirectory(missingCold);
        coordinator = StartCoordinator(Settings(source.ConnectionString, retentionDays: 2, cold: missingCold));
        // Every day past the horizon, not only the oldest: a move still running would change the files under the read below.
        var horizon = DateOnly.FromDateTime(T0.AddDays(-2).UtcDateTime);
        await AwaitAssertAsync(() => Assert.All(Manifest(coordinator).Metrics.Partitions.Where(p => LakeLayout.ParseDateKey(p.Key) < horizon),
            p => Assert.Equal(LakeLocation.Cold, p.Value.Location)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.Equal(LakeLocation.Cold, Manifest(coordinator).Partition(oldDay)!.Location);
        await AwaitAssertAsync(() => Assert.Empty(Directory.GetFiles(Path.Combine(settings.HotPath, "metrics/v1", $"date={LakeLayout.DateKey(oldDay)}"), "*.parquet", SearchOption.AllDirectories)), TimeSpan.FromSeconds(30));
        Assert.Equal(expected, LakeDuckDb.ReadManifest(Manifest(coordinator), settings.HotPath, missingCold).Count);
        Stop(coordinator);

        // A hot-only lake with a 1-day horizon: the hot partitions past it leave the manifest and the disk.
        coordinator = StartCoordinator(Settings(source.ConnectionString, retentionDays: 1));
        var yesterdayButOne = DateOnly.FromDateTime(T0.AddDays(-2).UtcDateTime);
        await AwaitAssertAsync(() =>
        {
            var m = Manifest(coordinator);
            Assert.Null(m.Partition(yesterdayButOne));
            Assert.Contains(LakeLayout.DateKey(yesterdayButOne), m.Metrics.ExpiredPartitions!.Keys);
            Assert.Empty(m.PendingDeletions);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.False(Directory.EnumerateFiles(Path.Combine(settings.HotPath, "metrics/v1", $"date={LakeLayout.DateKey(yesterdayButOne)}"), "*", SearchOption.AllDirectories).Any());
        Assert.Equal(LakeLocation.Cold, Manifest(coordinator).Partition(oldDay)!.Location);
    }
}
