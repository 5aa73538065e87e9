using Akka.Actor;
using Akka.TestKit;
using AkkaLake.Actors.Replication;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Actors;
using AkkaLake.Demo;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

/// <summary>The daemon holding re-sent readings to place them together, against PostgreSQL, read back with DuckDB.</summary>
[Collection(PostgresCollection.Name)]
public class HeldCorrectionsTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    [Fact]
    public async Task Held_readings_leave_the_older_versions_and_the_watermark_until_placed_and_a_restart_reads_them_again_from_the_watermark()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.UtcDateTime.Ticks - now.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddHours(-2);
        await source.InsertStampedNowAsync(0, start, start.AddMinutes(118), TimeSpan.FromMinutes(1));
        var coordinator = StartCoordinator(Settings(source.ConnectionString, 2));
        var listener = CreateTestProbe();
        var daemon = Sys.ActorOf(ReplicationActor.Props(Settings(source.ConnectionString, 2, ("hold-corrections-seconds", "3600")), coordinator, listener, new ReplicationJob.Continuous()));
        Assert.True(NextCycle(listener).Succeeded);
        var settings = Settings(source.ConnectionString, 2);
        var fresh = start.AddMinutes(119.5);

        // Three readings of the last two hours re-sent as the controller upserts them, and a new reading of each sensor, in one transaction.
        (string Sensor, DateTimeOffset Ts)[] resent = [(SampleReadings.SensorId(0), start.AddMinutes(10)), (SampleReadings.SensorId(1), start.AddMinutes(60)), (SampleReadings.SensorId(3), start.AddMinutes(115))];
        await source.ExecuteAsync(string.Concat(resent.Select(r =>
            $"UPDATE metrics SET value = value + 100, inserted_at = clock_timestamp() WHERE sensor_id = '{r.Sensor}' AND ts = '{r.Ts:O}'; ")) +
            $"INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at) SELECT format('sensor-%s', lpad(i::text, 4, '0')), '{fresh:O}', i, 0, clock_timestamp() FROM generate_series(0, 3) i");
        var expected = await source.RowsAsync();
        var (firstResent, lastResent) = await ResentAtAsync(source);
        for (var tick = 0; tick < 5 && Read(() => LakeRows(settings)).Count < expected.Count; tick++)
        {
            daemon.Tell(ReplicationProtocol.Tick.Instance);
            Assert.True(NextCycle(listener).Succeeded);
        }

        // The new readings are in; the re-sent ones wait, so the lake still has their older versions and the watermark stays before them.
        var manifest = Manifest(coordinator);
        var watermark = manifest.Metrics.ComputedThroughTs!.Value;
        Assert.True(watermark < firstResent, $"the watermark {watermark:O} passed a held reading stamped {firstResent:O}");
        Assert.All(manifest.Files(), f => Assert.True(f.File.CursorTo is null || f.File.CursorTo <= watermark, $"{f.File.Name} claims rows inserted up to {f.File.CursorTo}"));
        var held = Read(() => LakeRows(settings));
        Assert.Equal(expected.Count, held.Count);
        AssertEachKeyOnceAsTheControllerLists(settings);
        Assert.Equal(4, held.Count(r => r.Ts == fresh.UtcDateTime));
        var values = expected.ToDictionary(r => (r.Item1, r.Item2), r => r.Item3);
        foreach (var (sensor, ts) in resent)
            Assert.Equal(values[(sensor, Timestamps.ToMicros(ts))], held.Single(r => r.SensorId == sensor && r.Ts == ts.UtcDateTime).Value + 100);

        // How late readings are re-sent is learned from the held ones, so compaction can cut the files they go into before they are placed.
        Assert.True(CorrectionHorizons.For(Sys).Current(DateTimeOffset.UtcNow) >= TimeSpan.FromMinutes(105));

        // A restart forgets what was held and reads again from the watermark: the held readings are placed, the others found unchanged.
        Stop(daemon);
        daemon = Sys.ActorOf(ReplicationActor.Props(Settings(source.ConnectionString, 2, ("hold-corrections-seconds", "1")), coordinator, listener, new ReplicationJob.Continuous()));
        for (var tick = 0; tick < 10 && Manifest(coordinator).Metrics.ComputedThroughTs < lastResent; tick++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            daemon.Tell(ReplicationProtocol.Tick.Instance);
            Assert.True(NextCycle(listener).Succeeded);
        }

        manifest = Manifest(coordinator);
        Assert.True(manifest.Metrics.ComputedThroughTs >= lastResent, "the held readings were never placed");
        Assert.All(manifest.Files(), f => Assert.True(f.File.CursorTo is null || f.File.CursorTo <= manifest.Metrics.ComputedThroughTs));
        AssertEachKeyOnceAsTheControllerLists(settings);
        var placed = Read(() => LakeRows(settings));
        Assert.Equal(
            expected.Select(r => (r.Item1, r.Item2, r.Item3)).Order(),
            placed.Select(r => (r.SensorId, Timestamps.ToMicros(new DateTimeOffset(r.Ts, TimeSpan.Zero)), r.Value)).Order());
        Stop(daemon);
    }

    /// <summary>
    /// A read again if a compaction's commit renamed a file it listed before it opened it (the
    /// learned horizon has compaction cut the backfilled day while the test reads).
    /// </summary>
    private static IReadOnlyList<LakeRow> Read(Func<IReadOnlyList<LakeRow>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return read();
            }
            catch (DuckDB.NET.Data.DuckDBException e) when (attempt < 20 && LakeDuckDb.IsRenameRace(e))
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>The controller's glob may miss rows while a commit renames files, never see one twice.</summary>
    private static void AssertEachKeyOnceAsTheControllerLists(LakeSettings settings)
    {
        var listed = Read(() => LakeDuckDb.ReadGlob(settings.HotPath));
        Assert.Equal(listed.Count, listed.Select(r => (r.SensorId, r.Ts)).Distinct().Count());
    }

    private static ReplicationProtocol.CycleCompleted NextCycle(TestProbe listener) =>
        (ReplicationProtocol.CycleCompleted)listener.FishForMessage(m => m is ReplicationProtocol.CycleCompleted, TimeSpan.FromSeconds(60));

    private static async Task<(DateTimeOffset First, DateTimeOffset Last)> ResentAtAsync(SourceDatabase source)
    {
        await using var connection = await source.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT min(inserted_at), max(inserted_at) FROM metrics WHERE value >= 50", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1));
    }
}
