using AkkaLake.Demo;
using AkkaLake.Core;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class EndToEndReplicationTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Run_once_backfills_then_follows_inserts_and_the_lake_equals_postgres_each_time()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
        {
            // Three days of readings, the oldest with no inserted_at (as legacy rows have).
            await SampleReadings.InsertAsync(c, 12, TimeSpan.FromMinutes(2), Now.AddDays(-3), Now.AddDays(-2));
            await SampleReadings.InsertAsync(c, 12, TimeSpan.FromMinutes(2), Now.AddDays(-2), Now.AddMinutes(-10), insertDelay: TimeSpan.FromSeconds(5));
        }
        using var lake = new LakeUnderTest(source.ConnectionString);

        lake.RunOnce();

        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
        var manifest = lake.Manifest;
        Assert.NotNull(manifest.Metrics.ComputedThroughTs);
        Assert.NotNull(manifest.Metrics.Backfill!.CompletedAt);
        // Days over an hour before as the backfill wrote them; a live day's recent minutes may already be cut into slices for re-sent readings.
        var live = DateOnly.FromDateTime(Now.UtcDateTime.AddHours(-1));
        Assert.All(manifest.Files().Where(f => f.Date < live), f => Assert.StartsWith("backfill-", f.File.Name));
        var state = new ReplicationStateStore(Path.Combine(lake.HotPath, "_state")).Load()!;
        Assert.Equal(ReplicationState.Ok, state.LastRunStatus);
        Assert.Equal(manifest.Metrics.ComputedThroughTs, state.ComputedThroughTs);
        Assert.NotNull(state.BackfillCompletedAt);

        // Late rows for old days from brand-new sensors, and current readings, stamped as the controller does: at insert time.
        await using (var c = await source.OpenAsync())
        {
            await SampleReadings.InsertAsync(c, 3, TimeSpan.FromMinutes(30), Now.AddDays(-3).AddMinutes(1), Now.AddDays(-1), firstSensor: 100);
            await SampleReadings.InsertAsync(c, 12, TimeSpan.FromMinutes(2), Now.AddMinutes(-10), Now.AddMinutes(-1));
        }
        await source.ExecuteAsync("UPDATE metrics SET inserted_at = clock_timestamp() WHERE inserted_at IS NULL AND (sensor_id >= 'sensor-0100' OR ts >= now() - interval '1 day')");

        lake.RunOnce();

        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
        Assert.Contains(lake.Manifest.Files(), f => f.File.Name.StartsWith("part-", StringComparison.Ordinal));
        Assert.True(lake.Manifest.Metrics.ComputedThroughTs > manifest.Metrics.ComputedThroughTs);

        var inspect = CliRunner.Run(lake.Args("inspect", "--json"));
        Assert.Equal(0, inspect.ExitCode);
        Assert.Contains("\"metrics/v1\"", inspect.Output);
    }

    [Fact]
    public async Task A_source_without_the_optional_columns_replicates_with_nulls_for_them()
    {
        var source = await SourceDatabase.CreateAsync(postgres, withOptionalColumns: false);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 5, TimeSpan.FromMinutes(5), Now.AddHours(-6), Now.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1), withOptionalColumns: false);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);

        lake.RunOnce();

        await lake.AssertLakeEqualsSourceAsync(source);
        Assert.All(lake.Rows(), r => Assert.Null(r.Source));
    }

    [Fact]
    public async Task Running_again_with_nothing_new_commits_no_files_and_keeps_every_row_once()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 4, TimeSpan.FromMinutes(10), Now.AddHours(-5), Now.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var files = lake.Manifest.Files().Count();

        lake.RunOnce();
        lake.RunOnce();

        Assert.Equal(files, lake.Manifest.Files().Count());
        await lake.AssertLakeEqualsSourceAsync(source);
    }
}
