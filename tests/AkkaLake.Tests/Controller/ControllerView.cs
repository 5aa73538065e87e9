using AkkaLake.Demo;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;

namespace AkkaLake.Tests.Controller;

/// <summary>
/// The controller's view of a lake (<see cref="ControllerReader"/>, in a session zone that is not
/// UTC) against PostgreSQL: the source the conformance and takeover tests share, and their checks.
/// </summary>
internal static class ControllerView
{
    internal static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    internal static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);
    internal static readonly DateTimeOffset Midnight = new(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    internal static readonly string[] Sensors = [.. Enumerable.Range(0, 6).Select(SampleReadings.SensorId)];

    /// <summary>Six sensors every 10 minutes since the day before yesterday, a third of them with NULL quality.</summary>
    internal static async Task<SourceDatabase> SourceAsync(PostgresFixture postgres)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, Midnight.AddDays(-2), Now.AddMinutes(-1), TimeSpan.FromMinutes(10), sensors: Sensors.Length);
        await source.ExecuteAsync("UPDATE metrics SET quality = NULL WHERE extract(minute FROM ts) = 20");
        return source;
    }

    /// <summary>The ranges an analysis asks for: across midnight UTC, a whole finished day, everything.</summary>
    private static IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> Ranges() =>
    [
        (Midnight.AddHours(-3), Midnight.AddHours(3)),
        (Midnight.AddDays(-1), Midnight.AddSeconds(-1)),
        (Midnight.AddDays(-2).AddHours(-1), Now.AddHours(1)),
    ];

    internal static async Task AssertReadsSourceAsync(LakeUnderTest lake, SourceDatabase source, string timeZone = "America/Chicago")
    {
        var reader = new ControllerReader(lake.HotPath, lake.ColdPath, lake.Shards, timeZone);
        foreach (var (start, end) in Ranges())
        {
            Assert.Equal(await PointsAsync(source, start, end), reader.Points(Sensors, start, end));
            foreach (var goodOnly in new[] { false, true })
                await AssertBucketsAsync(reader, source, Sensors, start, end, goodOnly);
        }
    }

    /// <summary>The controller's hourly buckets of these sensors over [start, end) against PostgreSQL's.</summary>
    internal static async Task AssertBucketsAsync(ControllerReader reader, SourceDatabase source, string[] sensors, DateTimeOffset start, DateTimeOffset end, bool goodOnly = false)
    {
        var expected = await BucketsAsync(source, sensors, start, end, 3600, goodOnly);
        var actual = reader.Buckets(sensors, start, end, 3600, goodOnly);
        Assert.Equal(expected.Select(b => (b.SensorId, b.BucketEpoch, b.Samples)), actual.Select(b => (b.SensorId, b.BucketEpoch, b.Samples)));
        Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.Avg, p.Second.Avg, 9));
    }

    /// <summary>
    /// What the controller sees at a moment of a running lake: no key twice, none PostgreSQL does
    /// not have. A file listed, then taken out by a commit before DuckDB opened it, fails the read
    /// (the controller's job fails and is run again, rather than count rows twice); such a read is
    /// taken again and counted.
    /// </summary>
    internal static async Task<int> AssertNoRowTwiceNorInventedAsync(LakeUnderTest lake, SourceDatabase source)
    {
        var (start, end) = (Midnight.AddDays(-2).AddHours(-1), Now.AddDays(1));
        var reader = new ControllerReader(lake.HotPath, lake.ColdPath, lake.Shards, "Asia/Tokyo");
        IReadOnlyList<ControllerPoint>? seen = null;
        var failedReads = 0;
        while (seen is null)
        {
            try
            {
                seen = reader.Points(Sensors, start, end);
            }
            catch (DuckDB.NET.Data.DuckDBException e) when (failedReads < 5 && LakeDuckDb.IsRenameRace(e))
            {
                failedReads++;
            }
        }
        var keys = seen.Select(p => (p.SensorId, p.Ts)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        var known = (await PointsAsync(source, start, end.AddDays(1))).Select(p => (p.SensorId, p.Ts)).ToHashSet();
        Assert.All(keys, k => Assert.Contains(k, known));
        return failedReads;
    }

    private static async Task<List<ControllerPoint>> PointsAsync(SourceDatabase source, DateTimeOffset start, DateTimeOffset end)
    {
        await using var connection = await source.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT sensor_id, ts, value, coalesce(quality, 0) FROM metrics WHERE sensor_id = ANY(@ids) AND ts >= @start AND ts <= @end ORDER BY sensor_id COLLATE \"C\", ts", connection);
        command.Parameters.AddWithValue("ids", Sensors);
        command.Parameters.AddWithValue("start", start);
        command.Parameters.AddWithValue("end", end);
        var points = new List<ControllerPoint>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            points.Add(new ControllerPoint(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1).UtcDateTime, reader.GetDouble(2), reader.GetInt16(3)));
        return points;
    }

    private static async Task<List<ControllerBucket>> BucketsAsync(SourceDatabase source, string[] sensors, DateTimeOffset start, DateTimeOffset end, int seconds, bool goodOnly)
    {
        await using var connection = await source.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT sensor_id, (floor(extract(epoch FROM ts) / {seconds}) * {seconds})::bigint AS b, avg(value), count(*) FROM metrics " +
            $"WHERE sensor_id = ANY(@ids) AND ts >= @start AND ts < @end {(goodOnly ? "AND coalesce(quality, 0) = 0" : "")} GROUP BY 1, 2 ORDER BY sensor_id COLLATE \"C\", b", connection);
        command.Parameters.AddWithValue("ids", sensors);
        command.Parameters.AddWithValue("start", start);
        command.Parameters.AddWithValue("end", end);
        var buckets = new List<ControllerBucket>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            buckets.Add(new ControllerBucket(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3)));
        return buckets;
    }

}
