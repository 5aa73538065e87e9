using AkkaLake.Core.Configuration;
using AkkaLake.Demo;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Core.Spill;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class SourceEdgeCaseTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Bad_rows_are_skipped_by_the_stated_rules_and_logged_while_nan_and_infinity_are_written_as_they_are()
    {
        // A source without the constraints, as some deployments may have it.
        var source = new SourceDatabase(await postgres.CreateDatabaseAsync());
        await source.ExecuteAsync("""
            CREATE TABLE metrics (sensor_id text, ts timestamptz, value double precision, quality smallint, inserted_at timestamptz);
            INSERT INTO metrics VALUES
              ('good', now() - interval '1 hour', 1.5, 0, now() - interval '50 minutes'),
              ('nan', now() - interval '1 hour', 'NaN', NULL, now() - interval '50 minutes'),
              ('inf', now() - interval '1 hour', 'Infinity', 1, now() - interval '50 minutes'),
              ('-inf', now() - interval '1 hour', '-Infinity', 1, now() - interval '50 minutes'),
              ('path/../x "quoted"' || E'\n' || 'ünïcødé 🌡', now() - interval '1 hour', 2, 0, now() - interval '50 minutes'),
              (NULL, now() - interval '1 hour', 1, 0, now() - interval '50 minutes'),
              ('', now() - interval '1 hour', 1, 0, now() - interval '50 minutes'),
              (repeat('x', 1000), now() - interval '1 hour', 1, 0, now() - interval '50 minutes'),
              ('nots', NULL, 1, 0, now() - interval '50 minutes'),
              ('infts', 'infinity', 1, 0, now() - interval '50 minutes'),
              ('farfuture', '20000-01-01', 1, 0, now() - interval '50 minutes'),
              ('novalue', now() - interval '1 hour', NULL, 0, now() - interval '50 minutes'),
              ('edge', '9999-12-31 23:59:59.999999+00', 3, 0, now() - interval '50 minutes'),
              ('future', now() + interval '3 days', 4, 0, now() - interval '50 minutes');
            """);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);

        lake.RunOnce();

        var rows = lake.Rows();
        Assert.Equal(["-inf", "edge", "future", "good", "inf", "nan", "path/../x \"quoted\"\nünïcødé 🌡"], rows.Select(r => r.SensorId).Order(StringComparer.Ordinal).ToArray());
        Assert.True(double.IsNaN(rows.Single(r => r.SensorId == "nan").Value));
        Assert.Equal(double.PositiveInfinity, rows.Single(r => r.SensorId == "inf").Value);
        Assert.Equal(new DateTime(9999, 12, 31), rows.Single(r => r.SensorId == "edge").Ts.Date);
        Assert.Contains(lake.Manifest.Metrics.Partitions.Keys, k => k == "9999-12-31");
        // Nothing lands outside the lake, whatever the sensor id says.
        Assert.All(Directory.GetFiles(lake.DataRoot, "*", SearchOption.AllDirectories), f => Assert.StartsWith(lake.DataRoot, Path.GetFullPath(f)));
        var log = File.ReadAllText(lake.LogFile);
        Assert.Contains("Skipped", log);
        Assert.Contains("sensor_id null or empty", log);
        Assert.Contains("sensor_id longer than 256 characters", log);
        Assert.Contains("ts null or outside 0001-01-01..9999-12-31", log);
        Assert.Contains("value null", log);
    }

    [Fact]
    public async Task Without_a_time_index_the_backfill_reads_the_table_in_one_pass_days_are_checked_per_sensor_over_the_primary_key_and_the_lake_equals_postgres()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.ExecuteAsync("DROP INDEX metrics_ts_idx");
        await source.InsertStampedNowAsync(0, T0.AddDays(-60), T0.AddMinutes(-1), TimeSpan.FromMinutes(30), sensors: 20);
        await source.ExecuteAsync("ANALYZE metrics");

        await using (var c = await source.OpenAsync())
        {
            var table = await SourceTable.DescribeAsync(c, CancellationToken.None);
            var scan = await DayScan.ChooseAsync(c, table, CancellationToken.None);
            Assert.Equal("metrics_pkey", scan.Index);
            Assert.Equal(20, scan.Sensors!.Count);
            async Task<string> PlanAsync(string where)
            {
                await using var explain = new Npgsql.NpgsqlCommand($"EXPLAIN SELECT * FROM metrics WHERE {where}", c);
                var lines = new List<string>();
                await using var reader = await explain.ExecuteReaderAsync();
                while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
                return string.Join("\n", lines);
            }
            var day = DateOnly.FromDateTime(T0.AddDays(-10).UtcDateTime);
            Assert.Contains("Seq Scan", await PlanAsync(new DayScan(null, null).Condition(day)));
            Assert.DoesNotContain("Seq Scan", await PlanAsync(scan.Condition(day)));

            // A planner that prices index reads high, as PostgreSQL did on 90 days of 500 sensors,
            // scans the whole table for the sensor list; the setting a day's read runs with keeps the index.
            await using (var costly = new Npgsql.NpgsqlCommand("SET random_page_cost = 10000", c)) await costly.ExecuteNonQueryAsync();
            Assert.Contains("Seq Scan", await PlanAsync(scan.Condition(day)));
            await using (var read = scan.BeginRead(c))
            {
                Assert.DoesNotContain("Seq Scan", await PlanAsync(scan.Condition(day)));
                // The same estimate would have every day's read compile its plan first.
                await using var jit = new Npgsql.NpgsqlCommand("SHOW jit", c);
                Assert.Equal("off", await jit.ExecuteScalarAsync());
            }
            await using (var reset = new Npgsql.NpgsqlCommand("RESET random_page_cost", c)) await reset.ExecuteNonQueryAsync();

            // A first backfill over most of the table reads it in one pass; over its last two days of sixty, a day at a time.
            var horizon = await BackfillPass.ChooseAsync(c, table, scan, DateOnly.FromDateTime(T0.AddDays(-90).UtcDateTime), BackfillRead.Auto, CancellationToken.None);
            Assert.True(horizon.OnePass, horizon.Describe());
            var lastDays = await BackfillPass.ChooseAsync(c, table, scan, DateOnly.FromDateTime(T0.AddDays(-2).UtcDateTime), BackfillRead.Auto, CancellationToken.None);
            Assert.False(lastDays.OnePass, lastDays.Describe());
        }

        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "first-backfill-read = auto");
        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
        var log = File.ReadAllText(lake.LogFile);
        Assert.Contains("no index led by ts", log);
        Assert.Contains("in one pass over the source table", log);
        Assert.Matches(@"Backfilled \S+ through \S+ in one pass", log);
        var reconcile = CliRunner.Run(lake.Args("reconcile", "--dry-run"));
        Assert.True(reconcile.ExitCode == 0, reconcile.Output + reconcile.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_backfill_in_one_pass_past_its_row_budget_writes_one_file_per_shard_day_whatever_the_tables_order_and_a_crash_mid_pass_commits_nothing(bool bySensor)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-10), T0.AddMinutes(-1), TimeSpan.FromMinutes(2), sensors: 20, bySensor: bySensor);
        // 14,400 rows a day against a budget of 20,000: the pass spills many times, and with the
        // table stored sensor by sensor every shard-day is fed from the first chunk to the last.
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "first-backfill-read = one-pass\nmax-buffered-rows = 20000");
        var scratch = new SpillArea(Path.Combine(lake.DataRoot, "storage", "analysis", "tmp"), lake.HotPath).LakeDirectory;

        using (var run = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "writer.after-spill=crash" }, lake.Args("run", "--once")))
        {
            Assert.NotEqual(0, run.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Contains("fault injection", run.Output);
        }
        Assert.Empty(lake.Manifest.Files());
        Assert.Null(lake.Manifest.Metrics.Backfill?.CompletedAt);
        Assert.False(Directory.Exists(Path.Combine(lake.HotPath, "metrics")));
        Assert.NotEmpty(Directory.GetFiles(scratch, "*.run", SearchOption.AllDirectories));

        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
        Assert.Empty(Directory.GetFiles(lake.HotPath, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.Exists(scratch) ? Directory.GetFiles(scratch, "*", SearchOption.AllDirectories) : []);
        var log = File.ReadAllText(lake.LogFile);
        Assert.Matches(@"Backfilled \S+ through \S+ in one pass", log);
        Assert.Contains("spilled to the scratch path", log);
        Assert.Equal(22, AssertOneFinalFilePerShardDay(lake));
    }

    /// <summary>
    /// One final file per shard-day, and beside it, in a day still live, the last minutes in
    /// 5-minute slices (readings re-sent for them rewrite a slice, not the day); how many shard-days.
    /// </summary>
    private static int AssertOneFinalFilePerShardDay(LakeUnderTest lake)
    {
        var shardDays = lake.Manifest.Metrics.Partitions.Values.SelectMany(p => p.Shards.Values).Select(s => s.Files).ToList();
        Assert.All(shardDays, files => Assert.Single(files, f => f.Level == PartFile.FinalLevel));
        Assert.All(shardDays.SelectMany(files => files.Where(f => f.Level != PartFile.FinalLevel)), slice =>
        {
            Assert.True(slice.MaxTs - slice.MinTs < TimeSpan.FromMinutes(5), $"{slice.Name} spans {slice.MinTs:O} to {slice.MaxTs:O}");
            Assert.True(slice.MinTs >= T0.AddMinutes(-30), $"{slice.Name} starts at {slice.MinTs:O}");
        });
        return shardDays.Count;
    }

    [Fact]
    public async Task The_oldest_row_bounds_which_days_the_backfill_must_scan_and_out_of_range_ts_rule_out_nothing()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        async Task<DateOnly> NoRowsBefore()
        {
            await using var c = await source.OpenAsync();
            var table = await SourceTable.DescribeAsync(c, CancellationToken.None);
            return await table.NoRowsBeforeAsync(c, await DayScan.ChooseAsync(c, table, CancellationToken.None), CancellationToken.None);
        }

        Assert.Equal(DateOnly.MaxValue, await NoRowsBefore());
        await source.ExecuteAsync("INSERT INTO sensors (sensor_id) VALUES ('a'); INSERT INTO metrics (sensor_id, ts, value) VALUES ('a', '2026-03-04 23:30:00-02', 1), ('a', '2026-05-01Z', 2)");
        Assert.Equal(new DateOnly(2026, 3, 5), await NoRowsBefore());
        await source.ExecuteAsync("INSERT INTO metrics (sensor_id, ts, value) VALUES ('a', '-infinity', 3)");
        Assert.Equal(DateOnly.MinValue, await NoRowsBefore());
    }

    [Fact]
    public async Task Rows_older_than_the_horizon_go_to_the_cold_path_when_set_and_are_counted_and_skipped_when_not()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 4, TimeSpan.FromHours(1), T0.AddDays(-1), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        using var temp = new TempDirectory();
        using var hotOnly = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "hot-retention-days = 3");
        using var withCold = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: temp.Combine("cold"), extraConfig: "hot-retention-days = 3");
        hotOnly.RunOnce();
        withCold.RunOnce();

        // Late rows for a day past the 3-day horizon.
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 4, TimeSpan.FromHours(1), T0.AddDays(-10), T0.AddDays(-9), firstSensor: 10);
        await source.ExecuteAsync("UPDATE metrics SET inserted_at = clock_timestamp() WHERE inserted_at IS NULL");
        hotOnly.RunOnce();
        withCold.RunOnce();

        var oldDate = LakeLayout.DateKey(DateOnly.FromDateTime(T0.AddDays(-10).UtcDateTime));
        Assert.DoesNotContain(hotOnly.Manifest.Metrics.Partitions.Keys, k => string.CompareOrdinal(k, oldDate) <= 0);
        Assert.Contains("older than the hot horizon", File.ReadAllText(hotOnly.LogFile));
        var cold = withCold.Manifest.Metrics.Partitions.Where(p => p.Value.Location == LakeLocation.Cold).ToList();
        Assert.NotEmpty(cold);
        Assert.True(Directory.Exists(Path.Combine(temp.Combine("cold"), "metrics/v1", $"date={cold[0].Key}")));
        await withCold.AssertLakeEqualsSourceAsync(source);
        withCold.AssertFilesAreWellFormed();
    }

    [Fact]
    public async Task A_batch_larger_than_the_memory_budget_spills_sorted_runs_and_still_writes_one_file_per_shard_day()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 40, TimeSpan.FromMinutes(1), T0.AddHours(-20), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "max-buffered-rows = 10000, row-group-rows = 1000");

        lake.RunOnce();

        AssertOneFinalFilePerShardDay(lake);
        Assert.Contains(lake.Manifest.Files(), f => f.File.Rows > 10_000);
        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
    }
}
