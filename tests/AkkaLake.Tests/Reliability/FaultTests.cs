using AkkaLake.Demo;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Reliability;

/// <summary>Faults from outside the process: a full disk, a database restart. Each ends with the lake equal to PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public class FaultTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const string NoSpace = "No space left on device";

    /// <summary>Readings with random values (they compress badly, so a few MB of parts) over the last two days.</summary>
    private static async Task<SourceDatabase> SourceWithRowsAsync(PostgresFixture postgres, int sensors, int readingsEach)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.ExecuteAsync($"""
            INSERT INTO sensors SELECT 'sensor-' || s FROM generate_series(1, {sensors}) s;
            INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at)
            SELECT 'sensor-' || s, now() - interval '2 days' + i * interval '1 second' * (172000 / {readingsEach}), random() * 1000, 0, now() - interval '1 minute'
            FROM generate_series(1, {sensors}) s, generate_series(1, {readingsEach}) i;
            """);
        return source;
    }

    [Fact]
    public async Task A_writer_made_to_fail_mid_batch_from_the_environment_commits_nothing_and_the_next_run_writes_every_row()
    {
        var source = await SourceWithRowsAsync(postgres, sensors: 8, readingsEach: 100);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);

        using (var run = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "writer.after-part=throw" }, lake.Args("run", "--once")))
        {
            Assert.NotEqual(0, run.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Contains("injected fault at writer.after-part", run.Output);
        }
        Assert.Empty(lake.Manifest.Files());
        Assert.Empty(Directory.GetFiles(lake.HotPath, "*.tmp", SearchOption.AllDirectories));

        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Fact]
    public async Task A_full_disk_while_parts_are_written_is_a_clear_error_that_commits_nothing_partial_and_replication_resumes_when_space_returns()
    {
        var source = await SourceWithRowsAsync(postgres, sensors: 40, readingsEach: 5000);
        using var disk = new SmallFilesystem("1m");
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, hotPath: Path.Combine(disk.Path, "hot"));

        var failed = CliRunner.Run(lake.Args("run", "--once"));

        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains(NoSpace, failed.Output + failed.Error + File.ReadAllText(lake.LogFile));
        // What was committed is whole, and no unfinished file is left taking the space.
        Assert.Empty(Directory.GetFiles(disk.Path, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);

        disk.Resize("64m");
        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task A_full_disk_when_the_manifest_is_written_keeps_a_readable_manifest_and_the_lake_catches_up_when_space_returns()
    {
        var source = await SourceWithRowsAsync(postgres, sensors: 8, readingsEach: 100);
        using var disk = new SmallFilesystem("8m");
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, hotPath: Path.Combine(disk.Path, "hot"));
        lake.RunOnce();
        var committed = lake.Manifest.Files().Select(f => f.RelativePath).ToHashSet();
        await source.InsertStampedNowAsync(100, DateTimeOffset.UtcNow.AddMinutes(-30), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(1));

        // Each commit pauses after renaming its parts, before the manifest write: the disk fills in that gap.
        var faults = new Dictionary<string, string> { ["AKKALAKE_FAULTS"] = "commit.after-rename=pause:1500" };
        var daemon = DaemonProcess.Start(faults, lake.Args("run"));
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!NewPartRenamed(lake, committed))
            {
                Assert.True(DateTime.UtcNow < deadline, "no commit started: " + daemon.Output);
                await Task.Delay(20);
            }
            disk.Fill();
            await WaitForLogAsync(lake, NoSpace, TimeSpan.FromSeconds(30));
            // The manifest on disk is one whole version, never a torn write.
            Assert.NotNull(new ManifestStore(Path.Combine(lake.HotPath, "_state")).Load());
            disk.Free();

            // The daemon retries, or stops so that recovery runs at its next start: like launchd's
            // KeepAlive, start it again whenever it has stopped, until the lake has caught up.
            var restarts = 0;
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (true)
            {
                if (daemon.HasExited)
                {
                    daemon.Dispose();
                    daemon = DaemonProcess.Start(lake.Args("run"));
                    restarts++;
                }
                try
                {
                    await lake.AssertLakeEqualsSourceAsync(source);
                    break;
                }
                catch (Exception) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(500);
                }
            }
            output.WriteLine(restarts == 0 ? "the daemon rode out the full disk" : $"the daemon stopped after the failed commit and was started again ({restarts}x)");
            daemon.Signal("TERM");
            daemon.WaitForExit(TimeSpan.FromSeconds(30));
        }
        finally
        {
            daemon.Dispose();
        }
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task A_full_cold_disk_during_a_move_is_a_clear_error_and_the_partition_stays_hot_until_there_is_room()
    {
        var source = await SourceWithRowsAsync(postgres, sensors: 40, readingsEach: 5000);
        using var cold = new SmallFilesystem("512k");
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: cold.Path);
        lake.RunOnce();
        // Yesterday: a whole day of readings, more than the cold disk holds.
        var day = Core.Layout.LakeLayout.DateKey(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1));

        var failed = CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold"));

        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains(NoSpace, failed.Output + failed.Error);
        Assert.Equal(LakeLocation.Hot, lake.Manifest.Metrics.Partitions[day].Location);
        Assert.Empty(Directory.GetFiles(cold.Path, "*.tmp", SearchOption.AllDirectories));

        cold.Resize("64m");
        Assert.Equal(0, CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold")).ExitCode);
        Assert.Equal(LakeLocation.Cold, lake.Manifest.Metrics.Partitions[day].Location);
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Fact]
    public async Task PostgreSQL_restarted_mid_copy_and_down_for_a_while_costs_time_but_no_rows()
    {
        // Its own server: this test stops it.
        using var server = LocalPostgresServer.Start();
        var source = new SourceDatabase(server.ConnectionString);
        var t0 = DateTimeOffset.UtcNow;
        await using (var c = await source.OpenAsync())
        {
            await SampleReadings.CreateSchemaAsync(c);
            await SampleReadings.InsertAsync(c, 10, TimeSpan.FromMinutes(5), t0.AddHours(-4), t0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        }
        // A slow view keeps the COPY running when the server goes down.
        await source.ServeThroughSlowViewAsync(TimeSpan.FromMilliseconds(10));
        using var lake = new LakeUnderTest(server.ConnectionString, shards: 2);

        using var daemon = DaemonProcess.Start(lake.Args("run"));
        await WaitForCopyAsync(source, TimeSpan.FromSeconds(60));
        server.StopServer();
        await Task.Delay(TimeSpan.FromSeconds(5));
        await WaitForLogAsync(lake, "Replication failed", TimeSpan.FromSeconds(30));
        server.StartServer();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await source.StopServingThroughSlowViewAsync();
        await source.InsertStampedNowAsync(100, DateTimeOffset.UtcNow.AddMinutes(-20), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(1));

        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(90));
        Assert.False(daemon.HasExited, "the daemon should ride out the outage: " + daemon.Output);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    private static bool NewPartRenamed(LakeUnderTest lake, IReadOnlySet<string> committed) =>
        Directory.Exists(Path.Combine(lake.HotPath, "metrics")) &&
        Directory.EnumerateFiles(Path.Combine(lake.HotPath, "metrics"), "*.parquet", SearchOption.AllDirectories)
            .Any(f => !committed.Contains(Path.GetRelativePath(lake.HotPath, f)));

    private static async Task WaitForCopyAsync(SourceDatabase source, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var c = await source.OpenAsync();
            await using var q = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND state = 'active'", c);
            if ((long)(await q.ExecuteScalarAsync())! > 0) return;
            Assert.True(DateTime.UtcNow < deadline, "the daemon never started a COPY");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForLogAsync(LakeUnderTest lake, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(Directory.Exists(Path.Combine(lake.DataRoot, "logs")) && File.ReadAllText(lake.LogFile).Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the log never said \"{text}\"");
            await Task.Delay(200);
        }
    }
}
