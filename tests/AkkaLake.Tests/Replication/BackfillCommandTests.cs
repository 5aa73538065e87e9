using AkkaLake.Demo;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class BackfillCommandTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private async Task<(SourceDatabase, LakeUnderTest)> ReplicatedLakeAsync()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 5, TimeSpan.FromMinutes(15), T0.AddDays(-2), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        return (source, lake);
    }

    [Fact]
    public async Task Backfill_replace_rebuilds_a_day_that_upserts_changed()
    {
        var (source, lake) = await ReplicatedLakeAsync();
        using var _ = lake;
        var day = DateOnly.FromDateTime(T0.AddDays(-1).UtcDateTime);
        await source.ExecuteAsync($"UPDATE metrics SET value = value + 1000, inserted_at = clock_timestamp() WHERE sensor_id = 'sensor-0001' AND ts::date = '{LakeLayout.DateKey(day)}'");
        lake.RunOnce();
        // The batch carrying the upserts replaced the old versions in its commit.
        await lake.AssertLakeEqualsSourceAsync(source);

        var refused = CliRunner.Run(lake.Args("backfill", "--from", LakeLayout.DateKey(day), "--to", LakeLayout.DateKey(day)));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Pass --replace", refused.Error);

        var rebuilt = CliRunner.Run(lake.Args("backfill", "--from", LakeLayout.DateKey(day), "--to", LakeLayout.DateKey(day), "--replace"));
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Error);

        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
        Assert.NotEmpty(lake.Manifest.PendingDeletions);
    }

    [Theory]
    [InlineData("by-day")]
    [InlineData("one-pass")]
    public async Task Backfill_on_an_empty_lake_is_its_first_backfill_from_the_day_asked_for_and_replication_continues_from_it(string read)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 5, TimeSpan.FromMinutes(15), T0.AddDays(-4), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        using var lake = new LakeUnderTest(source.ConnectionString, extraConfig: $"first-backfill-read = {read}");

        var result = CliRunner.Run(lake.Args("backfill", "--days", "2"));

        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        var from = new DateTimeOffset(DateOnly.FromDateTime(T0.UtcDateTime).AddDays(-1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await lake.AssertLakeEqualsSourceAsync(source, from);
        Assert.NotNull(lake.Manifest.Metrics.ComputedThroughTs);
        Assert.Equal(read == "one-pass", File.ReadAllText(lake.LogFile).Contains("in one pass", StringComparison.Ordinal));

        await source.InsertStampedNowAsync(10, T0.AddMinutes(-3), T0.AddMinutes(-1), TimeSpan.FromMinutes(1));
        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source, from);
    }

    [Fact]
    public async Task Backfill_is_refused_while_another_writer_holds_the_lake()
    {
        var (_, lake) = await ReplicatedLakeAsync();
        using var _ = lake;
        using (LakeLock.Acquire(Path.Combine(lake.HotPath, "_state"), "run"))
        {
            var result = CliRunner.Run(lake.Args("backfill", "--days", "1", "--replace"));
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("in use by another AkkaLake writer", result.Error);
        }
    }

    [Theory]
    [InlineData("--days", "0")]
    [InlineData("--from", "2026-13-01", "--to", "2026-12-01")]
    [InlineData("--from", "2026-01-01")]
    public void Bad_backfill_arguments_are_clear_errors(params string[] args)
    {
        var result = CliRunner.Run(["backfill", .. args, "--hot-path", "/tmp/akkalake-nothing", "--database-url", "Host=127.0.0.1;Port=1"]);
        Assert.Equal(3, result.ExitCode);
        Assert.NotEmpty(result.Error);
    }
}
