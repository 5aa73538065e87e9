using System.Globalization;
using AkkaLake.Testing;
using AkkaLake.Tests.Controller;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Reliability;

/// <summary>Extreme shapes of a day: very many sensors, and one sensor with very many readings.</summary>
[Collection(PostgresCollection.Name)]
public class VolumeTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_million_sensors_and_one_sensor_with_two_million_readings_in_a_day_are_written_whole_within_the_memory_budget()
    {
        var source = new SourceDatabase(await postgres.CreateDatabaseAsync());
        await source.ExecuteAsync("""
            CREATE TABLE metrics (sensor_id text, ts timestamptz, value double precision, quality smallint, inserted_at timestamptz);
            INSERT INTO metrics SELECT 'sensor-' || i, date_trunc('day', now()) - interval '1 day' + (i % 86400) * interval '1 second', i, 0, now() - interval '1 hour'
              FROM generate_series(1, 1000000) i;
            INSERT INTO metrics SELECT 'busy', date_trunc('day', now()) - interval '1 day' + i * interval '40 milliseconds', i, 0, now() - interval '1 hour'
              FROM generate_series(0, 1999999) i;
            CREATE INDEX ON metrics (ts);
            ANALYZE metrics;
            """);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 4, extraConfig: "max-buffered-rows = 200000");

        using var daemon = DaemonProcess.Start(lake.Args("run", "--once"));
        long peakKb = 0;
        while (!daemon.HasExited)
        {
            peakKb = Math.Max(peakKb, PeakRssKb(daemon.Pid));
            await Task.Delay(100);
        }
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(10)) == 0, daemon.Output);
        output.WriteLine($"peak RSS {peakKb / 1024} MB, {lake.Manifest.Files().Count()} files");

        const string Summary = "count(*), count(DISTINCT sensor_id), count(DISTINCT (sensor_id, ts)), sum(value)";
        var lakeSummary = DuckDbRow($"SELECT {Summary} FROM {LakeDuckDb.ManifestFiles(lake.Manifest, lake.HotPath)}");
        Assert.Equal(await PostgresRowAsync(source, $"SELECT {Summary} FROM metrics"), lakeSummary);
        // The buffer holds 200,000 rows (about 10 MB); the rest is the runtime. Holding the day's 3M rows would pass this.
        Assert.True(peakKb < 450 * 1024, $"peak RSS {peakKb / 1024} MB");
        // As the controller reads it, in its own zone: the busy sensor's day came in chunks routed in many blocks to one shard-day.
        await ControllerView.AssertBucketsAsync(new ControllerReader(lake.HotPath, null, lake.Shards, "America/Chicago"), source,
            ["busy", "sensor-1", "sensor-86400"], DateTimeOffset.UtcNow.AddDays(-3), DateTimeOffset.UtcNow.AddDays(1));
        var verify = CliRunner.Run(lake.Args("verify"));
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
    }

    private static long PeakRssKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string DuckDbRow(string sql)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        reader.Read();
        return string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)));
    }

    private static async Task<string> PostgresRowAsync(SourceDatabase source, string sql)
    {
        await using var connection = await source.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)));
    }
}
