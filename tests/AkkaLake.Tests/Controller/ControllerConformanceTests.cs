using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Hosting;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using static AkkaLake.Tests.Controller.ControllerView;

namespace AkkaLake.Tests.Controller;

/// <summary>
/// The lake as the controller's analysis service reads it (<see cref="ControllerReader"/>: its
/// directory listing and its points and bucket SQL, in a session zone that is not UTC), compared
/// with PostgreSQL after each kind of change the lake goes through.
/// </summary>
[Collection(PostgresCollection.Name)]
public class ControllerConformanceTests(PostgresFixture postgres, Xunit.Abstractions.ITestOutputHelper output)
{
    private static async Task InsertNewReadingsAsync(SourceDatabase source, int round)
    {
        // Another reading of every sensor, 70 s apart per round (so that each round's readings close a live shard-day's open head and add a part), before now.
        var ts = Now.AddMinutes(-40).AddSeconds(70 * round);
        await source.ExecuteAsync(
            $"INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at) SELECT sensor_id, '{ts:O}'::timestamptz, {round}, 0, clock_timestamp() FROM sensors");
    }

    [Theory]
    [InlineData("by-day")]
    [InlineData("one-pass")]
    public async Task The_controller_reads_what_PostgreSQL_holds_in_any_time_zone_over_ranges_crossing_midnight_UTC(string backfillRead)
    {
        var source = await SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 4, extraConfig: $"first-backfill-read = {backfillRead}");
        lake.RunOnce();

        foreach (var zone in new[] { "America/Chicago", "Asia/Tokyo", "UTC" })
            await AssertReadsSourceAsync(lake, source, zone);
        // Its own committed view still answers in UTC.
        var sql = CliRunner.Run(lake.Args("sql", $"SELECT count(*) FROM metrics WHERE ts >= '{Midnight.AddHours(-3):yyyy-MM-dd HH:mm:ss}' AND ts < '{Midnight:yyyy-MM-dd HH:mm:ss}'"));
        Assert.Equal(0, sql.ExitCode);
        Assert.Contains((Sensors.Length * 18).ToString(System.Globalization.CultureInfo.InvariantCulture), sql.Output);
    }

    [Fact]
    public async Task After_compaction_the_controller_sees_each_row_once_inside_the_grace_period()
    {
        var source = await SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        for (var round = 0; round < 3; round++)
        {
            await InsertNewReadingsAsync(source, round);
            lake.RunOnce();
        }
        Assert.Contains(lake.Manifest.Partition(Today)!.Shards.Values, s => s.Files.Count > 1);

        Assert.Equal(0, CliRunner.Run(lake.Args("compact")).ExitCode);

        Assert.All(lake.Manifest.Partition(Today)!.Shards.Values, s => Assert.Single(s.Files));
        Assert.NotEmpty(lake.Manifest.PendingDeletions);
        await AssertReadsSourceAsync(lake, source);
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task After_upserts_of_today_and_of_finished_days_no_reader_sees_the_old_version()
    {
        var source = await SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var todays = Midnight.AddMinutes(30);
        var older = Midnight.AddDays(-2).AddHours(5);

        // The controller's upsert: a new value, inserted_at = now().
        await source.ExecuteAsync($"UPDATE metrics SET value = value + 1000, inserted_at = clock_timestamp() WHERE ts IN ('{todays:O}', '{older:O}') AND sensor_id = '{Sensors[1]}'");
        lake.RunOnce();
        await AssertReadsSourceAsync(lake, source);
        await lake.AssertLakeEqualsSourceAsync(source);

        // A second update of the same reading, and a lake compacted in between.
        Assert.Equal(0, CliRunner.Run(lake.Args("compact")).ExitCode);
        await source.ExecuteAsync($"UPDATE metrics SET value = value + 1, inserted_at = clock_timestamp() WHERE ts = '{older:O}' AND sensor_id = '{Sensors[1]}'");
        lake.RunOnce();
        await AssertReadsSourceAsync(lake, source, "Asia/Tokyo");
        await lake.AssertLakeEqualsSourceAsync(source);

        // An upsert that changes nothing but inserted_at changes nothing in the lake.
        var files = lake.Manifest.Files().Select(f => f.RelativePath).ToHashSet();
        await source.ExecuteAsync($"UPDATE metrics SET inserted_at = clock_timestamp() WHERE ts IN ('{todays:O}', '{older:O}')");
        lake.RunOnce();
        Assert.Equal(files, lake.Manifest.Files().Select(f => f.RelativePath).ToHashSet());
        await AssertReadsSourceAsync(lake, source);
    }

    [Fact]
    public async Task After_backfill_replace_and_a_move_to_cold_the_controller_reads_only_the_new_files()
    {
        var source = await SourceAsync(postgres);
        using var cold = new TempDirectory();
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: cold.Path);
        lake.RunOnce();
        var yesterday = Today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var older = Today.AddDays(-2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(0, CliRunner.Run(lake.Args("backfill", "--from", yesterday, "--to", yesterday, "--replace")).ExitCode);
        await AssertReadsSourceAsync(lake, source);

        Assert.Equal(0, CliRunner.Run(lake.Args("move-partition", "--date", older, "--to", "cold")).ExitCode);
        Assert.Equal(LakeLocation.Cold, lake.Manifest.Metrics.Partitions[older].Location);
        await AssertReadsSourceAsync(lake, source, "Asia/Tokyo");
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Theory]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-retire")]
    [InlineData("commit.after-rename")]
    [InlineData("commit.after-manifest")]
    public async Task A_crash_at_any_step_of_a_commit_never_shows_a_row_twice_and_recovery_restores_the_lake(string point)
    {
        var source = await SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 1);
        lake.RunOnce();
        for (var round = 0; round < 2; round++)
        {
            await InsertNewReadingsAsync(source, round);
            lake.RunOnce();
        }

        using (var crashed = DaemonProcess.Start(new Dictionary<string, string> { [EnvironmentFaults.Variable] = $"{point}=crash" }, lake.Args("compact")))
            Assert.NotEqual(0, crashed.WaitForExit(TimeSpan.FromMinutes(1)));
        await AssertNoRowTwiceNorInventedAsync(lake, source);

        lake.RunOnce();
        await AssertReadsSourceAsync(lake, source);
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task While_the_daemon_replicates_compacts_and_takes_upserts_the_controller_never_sees_a_row_twice()
    {
        var source = await SourceAsync(postgres);
        // Re-sent readings are held a little and placed together, as the daemon does by default.
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "delete-grace-seconds = 2\nhold-corrections-seconds = 15");
        lake.RunOnce();
        using var daemon = DaemonProcess.Start(lake.Args("run"));
        var until = DateTime.UtcNow.AddSeconds(45);
        var round = 0;
        var samples = 0;
        var failedReads = 0;
        while (DateTime.UtcNow < until)
        {
            if (samples % 20 == 0)
            {
                await InsertNewReadingsAsync(source, round++);
                await source.ExecuteAsync($"UPDATE metrics SET value = value + 1, inserted_at = clock_timestamp() WHERE sensor_id = '{Sensors[round % Sensors.Length]}' AND ts = '{Midnight.AddMinutes(10 * round):O}'");
            }
            failedReads += await AssertNoRowTwiceNorInventedAsync(lake, source);
            samples++;
            await Task.Delay(100);
        }
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(90));
        await AssertReadsSourceAsync(lake, source);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.True(lake.Manifest.Metrics.Partitions.Values.Any(p => p.LastCompactedAt is not null), "no compaction ran during the test");
        Assert.Contains("(hold-corrections-seconds)", File.ReadAllText(lake.LogFile));
        output.WriteLine($"{samples} reads as the controller reads, {failedReads} failed because a commit took a listed file out before it was opened");
    }
}
