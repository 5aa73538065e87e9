using Npgsql;
using NpgsqlTypes;

namespace AkkaLake.Demo;

/// <summary>
/// The controller's schema and generated readings, for the demo, the tests and the benchmark.
/// Readings are deterministic: sensor i at time t has value sin(t/600 + i) * 10 + i.
/// </summary>
public static class SampleReadings
{
    public static async Task CreateSchemaAsync(NpgsqlConnection connection, bool withOptionalColumns = true)
    {
        var optional = withOptionalColumns ? ", samples integer, source text" : "";
        var sql = $"""
            CREATE TABLE IF NOT EXISTS sensors (sensor_id varchar(24) PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS metrics (
              sensor_id   varchar(24)      NOT NULL REFERENCES sensors(sensor_id),
              ts          timestamptz      NOT NULL,
              value       double precision NOT NULL,
              quality     smallint DEFAULT 0,
              inserted_at timestamptz DEFAULT now(){optional},
              PRIMARY KEY (sensor_id, ts));
            CREATE INDEX IF NOT EXISTS metrics_inserted_at_idx ON metrics(inserted_at);
            -- A TimescaleDB hypertable has this time index by default; plain PostgreSQL needs it for day scans.
            CREATE INDEX IF NOT EXISTS metrics_ts_idx ON metrics(ts DESC);
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static string SensorId(int i) => $"sensor-{i:D4}";

    public static double ValueAt(int sensor, DateTimeOffset ts) => Math.Sin(ts.ToUnixTimeSeconds() / 600.0 + sensor) * 10 + sensor;

    /// <summary>
    /// A reading as a real sensor reports it: the same curve with up to ±1 of noise, rounded to two
    /// decimals. Such values compress about as the controller's do (a smooth curve compresses far better).
    /// </summary>
    public static double NoisyValueAt(int sensor, DateTimeOffset ts)
    {
        // The same noise in every process (HashCode is seeded per process), so benchmark runs generate the same table.
        Span<byte> key = stackalloc byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(key, sensor);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(key[4..], ts.UtcTicks);
        var hash = System.IO.Hashing.XxHash3.HashToUInt64(key) % 20_001;
        return Math.Round(ValueAt(sensor, ts) + (hash / 10_000.0 - 1), 2);
    }

    /// <summary>
    /// Inserts readings for sensors [firstSensor, firstSensor + sensors) every <paramref name="cadence"/>
    /// in [from, to), each stamped inserted_at = ts + <paramref name="insertDelay"/> (or NULL, as
    /// old rows are), with a binary COPY. Returns the number of rows. The table stores them in
    /// the order inserted: by time, as a running controller writes them, or with
    /// <paramref name="bySensor"/> each sensor's history together, as a bulk import leaves them.
    /// Readings fall on the cadence exactly, or with <paramref name="jitter"/> each sensor at its
    /// own phase within the cadence and up to 200 ms off it, as real sensors report.
    /// </summary>
    /// <param name="noisy">Values as a real sensor reports them (<see cref="NoisyValueAt"/>) instead of the smooth curve.</param>
    public static async Task<long> InsertAsync(NpgsqlConnection connection, int sensors, TimeSpan cadence, DateTimeOffset from, DateTimeOffset to,
        int firstSensor = 0, TimeSpan? insertDelay = null, bool withOptionalColumns = true, bool bySensor = false, bool jitter = false, CancellationToken ct = default,
        bool noisy = false)
    {
        await using (var ids = new NpgsqlCommand("INSERT INTO sensors SELECT format('sensor-%s', lpad(i::text, 4, '0')) FROM generate_series(@a, @b) i ON CONFLICT DO NOTHING", connection))
        {
            ids.Parameters.AddWithValue("a", firstSensor);
            ids.Parameters.AddWithValue("b", firstSensor + sensors - 1);
            await ids.ExecuteNonQueryAsync(ct);
        }
        var columns = withOptionalColumns ? "sensor_id, ts, value, quality, inserted_at, samples, source" : "sensor_id, ts, value, quality, inserted_at";
        long rows = 0;
        await using var writer = await connection.BeginBinaryImportAsync($"COPY metrics ({columns}) FROM STDIN (FORMAT BINARY)", ct);
        var cadenceMs = (long)cadence.TotalMilliseconds;
        async Task WriteAsync(int s, DateTimeOffset t)
        {
            if (jitter)
            {
                var step = (t - from).Ticks / cadence.Ticks;
                var offset = s * 1009L % cadenceMs + (s * 7919L + step * 104_729L) % 401 - 200;
                t = t.AddMilliseconds(Math.Clamp(offset, 0, cadenceMs - 1));
            }
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(SensorId(s), NpgsqlDbType.Varchar, ct);
            await writer.WriteAsync(t, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(noisy ? NoisyValueAt(s, t) : ValueAt(s, t), NpgsqlDbType.Double, ct);
            await writer.WriteAsync((short)(s % 3), NpgsqlDbType.Smallint, ct);
            if (insertDelay is { } delay) await writer.WriteAsync(t + delay, NpgsqlDbType.TimestampTz, ct);
            else await writer.WriteNullAsync(ct);
            if (withOptionalColumns)
            {
                if (s % 2 == 0) await writer.WriteAsync(s % 7, NpgsqlDbType.Integer, ct);
                else await writer.WriteNullAsync(ct);
                await writer.WriteAsync(s % 5 == 0 ? "modbus" : "lora", NpgsqlDbType.Text, ct);
            }
            rows++;
        }
        if (bySensor)
        {
            for (var s = firstSensor; s < firstSensor + sensors; s++)
                for (var t = from; t < to; t += cadence)
                    await WriteAsync(s, t);
        }
        else
        {
            for (var t = from; t < to; t += cadence)
                for (var s = firstSensor; s < firstSensor + sensors; s++)
                    await WriteAsync(s, t);
        }
        await writer.CompleteAsync(ct);
        return rows;
    }
}
