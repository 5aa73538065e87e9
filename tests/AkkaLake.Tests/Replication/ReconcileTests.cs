using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Source;
using AkkaLake.Tests.Controller;
using AkkaLake.Tests.Support;
using AkkaLake.Testing;
using Npgsql;
using Xunit;

namespace AkkaLake.Tests.Replication;

/// <summary>
/// Changes replication cannot see (it follows inserted_at) are found by checking days against
/// PostgreSQL and healed by rebuilding them, by hand and by the daemon on its schedule.
/// </summary>
[Collection(PostgresCollection.Name)]
public class ReconcileTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Midnight = ControllerView.Midnight;

    private static string Sql(DateTimeOffset t) => $"'{Timestamps.Format(t)}'::timestamptz";

    /// <summary>Deletes (a reading, a window, a sensor), rows stamped behind the watermark or without inserted_at, and an upsert so stamped.</summary>
    private static async Task ChangeBehindTheCursorAsync(SourceDatabase source)
    {
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = 'sensor-0000' AND ts = {Sql(Midnight.AddMinutes(10))}");
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = 'sensor-0001' AND ts >= {Sql(Midnight.AddDays(-1).AddHours(2))} AND ts < {Sql(Midnight.AddDays(-1).AddHours(4))}");
        await source.ExecuteAsync("DELETE FROM metrics WHERE sensor_id = 'sensor-0002'");
        await source.ExecuteAsync("INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at) VALUES " +
            $"('sensor-0003', {Sql(Midnight.AddDays(-2).AddMinutes(5))}, 42.5, 1, now() - interval '1 day'), " +
            $"('sensor-0004', {Sql(Midnight.AddDays(-1).AddMinutes(7))}, 17.25, NULL, NULL)");
        await source.ExecuteAsync($"UPDATE metrics SET value = value + 100, inserted_at = now() - interval '1 day' WHERE sensor_id = 'sensor-0005' AND ts = {Sql(Midnight.AddDays(-1).AddMinutes(30))}");
    }

    [Fact]
    public async Task Reconcile_finds_deletes_rows_behind_the_watermark_or_without_inserted_at_and_upserts_and_rebuilds_their_days()
    {
        var source = await ControllerView.SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var clean = CliRunner.Run(lake.Args("reconcile", "--dry-run"));
        Assert.True(clean.ExitCode == 0, clean.Output + clean.Error);
        Assert.Contains("all agree", clean.Output);

        await ChangeBehindTheCursorAsync(source);
        lake.RunOnce();
        var dry = CliRunner.Run(lake.Args("reconcile", "--dry-run", "--json"));
        Assert.True(dry.ExitCode == 1, dry.Output + dry.Error);
        var days = JsonNode.Parse(dry.Output)!["days"]!.AsArray();
        Assert.Equal(3, days.Count(d => d!["shards"]!.AsArray().Count > 0));

        var fix = CliRunner.Run(lake.Args("reconcile"));
        Assert.True(fix.ExitCode == 0, fix.Output + fix.Error);
        Assert.Contains("Rebuilt 3 days", fix.Output);
        await lake.AssertLakeEqualsSourceAsync(source);
        await ControllerView.AssertReadsSourceAsync(lake, source);
        lake.AssertFilesAreWellFormed();
        Assert.Equal(0, CliRunner.Run(lake.Args("reconcile", "--dry-run")).ExitCode);

        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Fact]
    public async Task A_crash_in_the_middle_of_a_rebuild_leaves_the_old_day_and_the_next_pass_heals_it()
    {
        var source = await ControllerView.SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        await ChangeBehindTheCursorAsync(source);

        using (var crashing = DaemonProcess.Start(new Dictionary<string, string> { ["AKKALAKE_FAULTS"] = "commit.after-rename=crash" }, lake.Args("reconcile")))
            Assert.NotEqual(0, crashing.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Equal(1, CliRunner.Run(lake.Args("reconcile", "--dry-run")).ExitCode);

        var fix = CliRunner.Run(lake.Args("reconcile"));
        Assert.True(fix.ExitCode == 0, fix.Output + fix.Error);
        await lake.AssertLakeEqualsSourceAsync(source);
        await ControllerView.AssertReadsSourceAsync(lake, source);
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task The_daemon_checks_its_days_on_a_schedule_and_heals_them_without_a_person()
    {
        var source = await ControllerView.SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "reconcile-interval-seconds = 1, reconcile-recent-interval-seconds = 1");
        lake.RunOnce();
        using var daemon = DaemonProcess.Start(lake.Args("run"));
        await daemon.WaitForOutputAsync("against PostgreSQL: its", TimeSpan.FromSeconds(60));

        await ChangeBehindTheCursorAsync(source);
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(90));
        await ControllerView.AssertReadsSourceAsync(lake, source);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("differs from PostgreSQL", daemon.Output);
        Assert.Contains("Rebuilding", daemon.Output);
    }

    [Fact]
    public async Task A_day_found_different_is_rebuilt_after_a_crash_before_its_rebuild_committed_without_waiting_to_be_checked_again()
    {
        var source = await ControllerView.SourceAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "reconcile-interval-seconds = 1, reconcile-recent-interval-seconds = 1");
        lake.RunOnce();
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = 'sensor-0001' AND ts >= {Sql(Midnight.AddDays(-1).AddHours(2))} AND ts < {Sql(Midnight.AddDays(-1).AddHours(4))}");

        // The daemon finds yesterday different and dies writing its rebuild.
        using (var crashing = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "writer.after-part=crash" }, lake.Args("run")))
        {
            Assert.NotEqual(0, crashing.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Contains("differs from PostgreSQL", crashing.Output);
        }
        Assert.NotNull(lake.Manifest.Metrics.DaysToRebuild);

        // Started again with no check due for an hour: the mark in the manifest is what rebuilds the day.
        lake.Reconfigure("reconcile-interval-seconds = 3600, reconcile-recent-interval-seconds = 3600");
        using var daemon = DaemonProcess.Start(lake.Args("run"));
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(60));
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Empty(lake.Manifest.Metrics.DaysToRebuild!);
        Assert.DoesNotContain("differs from PostgreSQL", daemon.Output);
    }

    [Fact]
    public async Task Checks_running_beside_re_sent_readings_find_no_difference_and_a_deleted_reading_is_still_found_and_mended()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddDays(-1).AddHours(-2), t0.AddMinutes(-1), TimeSpan.FromMinutes(5), sensors: 8);
        // Today and yesterday checked every second, while replication ticks every 10 s and readings keep being re-sent.
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "reconcile-recent-interval-seconds = 1, reconcile-interval-seconds = 1");
        lake.RunOnce();
        using var daemon = DaemonProcess.Start(lake.Args("run"));
        await daemon.WaitForOutputAsync("against PostgreSQL: its", TimeSpan.FromSeconds(60));

        using (var resend = new CancellationTokenSource(TimeSpan.FromSeconds(40)))
        {
            await using var c = await source.OpenAsync();
            var i = 0;
            while (!resend.IsCancellationRequested)
            {
                // New readings, and readings of today and yesterday sent again, as the controller's upserts re-stamp them.
                await using (var insert = new NpgsqlCommand(
                    $"INSERT INTO metrics (sensor_id, ts, value, inserted_at) SELECT format('sensor-%s', lpad(s::text, 4, '0')), now(), {i}, now() FROM generate_series(0, 7) s", c))
                    await insert.ExecuteNonQueryAsync();
                await using (var upsert = new NpgsqlCommand(
                    "UPDATE metrics SET value = value + 1, inserted_at = now() WHERE (sensor_id, ts) IN (SELECT sensor_id, ts FROM metrics WHERE ts > now() - interval '1 day' ORDER BY random() LIMIT 3)", c))
                    await upsert.ExecuteNonQueryAsync();
                i++;
                await Task.Delay(300);
            }
        }
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(60));
        var checks = Regex.Matches(daemon.Output, "against PostgreSQL: its").Count;
        Assert.True(checks >= 10, $"only {checks} checks ran");
        Assert.DoesNotContain("differs from PostgreSQL", daemon.Output);
        Assert.DoesNotContain("Rebuilding", daemon.Output);

        // A reading deleted by hand is a difference that is there: found, and the day rebuilt.
        var yesterday = DateOnly.FromDateTime(t0.UtcDateTime.AddDays(-1));
        await source.ExecuteAsync($"DELETE FROM metrics WHERE (sensor_id, ts) IN (SELECT sensor_id, ts FROM metrics WHERE ts >= '{LakeLayout.DateKey(yesterday)}' AND ts < '{LakeLayout.DateKey(yesterday.AddDays(1))}' LIMIT 1)");
        await daemon.WaitForOutputAsync("Rebuilt " + LakeLayout.DateKey(yesterday), TimeSpan.FromSeconds(60));
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(60));
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task PostgreSQL_computes_the_row_checksum_exactly_as_the_lake_does_in_any_session_zone()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        (string Ts, double Value, int? Quality)[] rows =
        [
            ("1969-12-31 23:59:59.999999+00", double.NaN, null),
            ("1969-12-31 23:00:00+00", -0.0, -7),
            ("1969-12-31 22:00:00.5+00", double.PositiveInfinity, 32767),
            ("1969-12-31 21:00:00.000001+00", -1.5e300, 3),
            ("1969-12-31 00:00:00+00", 21.5, 0),
        ];
        await source.ExecuteAsync("INSERT INTO sensors VALUES ('edge')");
        await using var connection = await source.OpenAsync();
        foreach (var (ts, value, quality) in rows)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at) VALUES ('edge', @ts::timestamptz, @v, @q, now())", connection);
            insert.Parameters.AddWithValue("ts", ts);
            insert.Parameters.AddWithValue("v", value);
            insert.Parameters.AddWithValue("q", quality is { } q ? (short)q : DBNull.Value);
            await insert.ExecuteNonQueryAsync();
        }
        var expected = rows.Aggregate(default(SensorDigest), (d, r) =>
            d.Add(RowChecksum.Of(Timestamps.ToMicros(DateTimeOffset.Parse(r.Ts, System.Globalization.CultureInfo.InvariantCulture)), r.Value, r.Quality ?? 0)));
        var table = await SourceTable.DescribeAsync(connection, CancellationToken.None);
        foreach (var zone in new[] { "UTC", "Asia/Kathmandu", "America/St_Johns" })
        {
            await using (var set = new NpgsqlCommand($"SET TimeZone = '{zone}'", connection)) await set.ExecuteNonQueryAsync();
            var digests = await SourceDigest.ReadDayAsync(connection, table, await DayScan.ChooseAsync(connection, table, CancellationToken.None),
                new DateOnly(1969, 12, 31), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);
            Assert.Equal(expected, digests.Digests["edge"]);
        }
    }
}
