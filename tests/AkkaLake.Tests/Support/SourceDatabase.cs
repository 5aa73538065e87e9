using AkkaLake.Demo;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using Npgsql;

namespace AkkaLake.Tests.Support;

/// <summary>A private source database with the controller's schema, and the rows it holds.</summary>
public sealed class SourceDatabase(string connectionString)
{
    public string ConnectionString { get; } = connectionString;

    public static async Task<SourceDatabase> CreateAsync(PostgresFixture postgres, bool withOptionalColumns = true)
    {
        var db = new SourceDatabase(await postgres.CreateDatabaseAsync());
        await using var connection = await db.OpenAsync();
        await SampleReadings.CreateSchemaAsync(connection, withOptionalColumns);
        return db;
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Readings of 4 sensors from <paramref name="firstSensor"/> on, stamped inserted_at at insert time as the controller does.</summary>
    public async Task InsertStampedNowAsync(int firstSensor, DateTimeOffset from, DateTimeOffset to, TimeSpan cadence, int sensors = 4, bool bySensor = false)
    {
        await using (var c = await OpenAsync())
            await SampleReadings.InsertAsync(c, sensors, cadence, from, to, firstSensor: firstSensor, bySensor: bySensor);
        await ExecuteAsync("UPDATE metrics SET inserted_at = clock_timestamp() WHERE inserted_at IS NULL");
    }

    /// <summary>
    /// Serves <c>metrics</c> through a view that sleeps on every row, so a COPY is still running
    /// when a test cuts its connection or stops the server.
    /// </summary>
    public Task ServeThroughSlowViewAsync(TimeSpan perRow) => ExecuteAsync(
        "ALTER TABLE metrics RENAME TO metrics_data; " +
        $"CREATE FUNCTION slow(v double precision) RETURNS double precision LANGUAGE plpgsql VOLATILE AS $$ BEGIN PERFORM pg_sleep({perRow.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}); RETURN v; END $$; " +
        "CREATE VIEW metrics AS SELECT sensor_id, ts, slow(value) AS value, quality, inserted_at, samples, source FROM metrics_data;");

    public Task StopServingThroughSlowViewAsync() => ExecuteAsync("DROP VIEW metrics; ALTER TABLE metrics_data RENAME TO metrics;");

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Rows as the lake holds them (sensor_id, ts in µs, value, quality with NULL as 0, samples, source), sorted, optionally from a ts onwards.</summary>
    public async Task<List<(string, long, double, int?, int?, string?)>> RowsAsync(DateTimeOffset? tsFrom = null)
    {
        await using var connection = await OpenAsync();
        var hasOptional = (await SourceTable.DescribeAsync(connection, CancellationToken.None)).HasSamples;
        var optional = hasOptional ? "samples, source" : "NULL::int, NULL::text";
        await using var command = new NpgsqlCommand(
            $"SELECT sensor_id, ts, value, coalesce(quality, 0::smallint), {optional} FROM metrics WHERE ts >= @from ORDER BY sensor_id COLLATE \"C\", ts", connection);
        command.Parameters.AddWithValue("from", tsFrom ?? DateTimeOffset.UnixEpoch);
        var rows = new List<(string, long, double, int?, int?, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), Core.Timestamps.ToMicros(reader.GetFieldValue<DateTimeOffset>(1)), reader.GetDouble(2),
                reader.IsDBNull(3) ? null : reader.GetInt16(3), reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        return rows;
    }
}
