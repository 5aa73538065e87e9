using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>Per-sensor figures of a ts window: rows, first and last ts, sum of value.</summary>
public sealed record SensorFigures(long Rows, DateTimeOffset? MinTs, DateTimeOffset? MaxTs, double Sum)
{
    /// <summary>
    /// The figures of the rows the lake should hold: inserted up to the watermark (or with no
    /// inserted_at) and valid under the lake's row rules; only <paramref name="ids"/> when given.
    /// </summary>
    public static async Task<Dictionary<string, SensorFigures>> ReadAsync(NpgsqlConnection connection, SourceTable table, DateTimeOffset from, DateTimeOffset to,
        DateTimeOffset watermark, IReadOnlyList<string>? ids, CancellationToken ct)
    {
        var filter = ids is null ? "" : " AND sensor_id::text = ANY(@ids)";
        await using var command = new NpgsqlCommand($"""
            SELECT sensor_id::text, count(*), min(ts), max(ts), sum(value)
            FROM {table.QuotedName}
            WHERE ts >= @from AND ts < @to AND (inserted_at <= @w OR inserted_at IS NULL)
              AND sensor_id IS NOT NULL AND length(sensor_id::text) BETWEEN 1 AND {RowRules.MaxSensorIdLength}
              AND value IS NOT NULL AND ts >= '0001-01-01Z' AND ts < '10000-01-01Z'{filter}
            GROUP BY sensor_id
            """, connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("w", watermark);
        if (ids is not null) command.Parameters.AddWithValue("ids", ids.ToArray());
        var result = new Dictionary<string, SensorFigures>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result[reader.GetString(0)] = new SensorFigures(reader.GetInt64(1),
                Timestamps.TruncateToMicros(reader.GetFieldValue<DateTimeOffset>(2)), Timestamps.TruncateToMicros(reader.GetFieldValue<DateTimeOffset>(3)), reader.GetDouble(4));
        return result;
    }

    /// <summary>Up to <paramref name="n"/> sensors with readings in the window, picked at random.</summary>
    public static async Task<IReadOnlyList<string>> SampleSensorsAsync(NpgsqlConnection connection, SourceTable table, DateTimeOffset from, DateTimeOffset to, int n, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT sensor_id FROM (SELECT DISTINCT sensor_id::text FROM {table.QuotedName} WHERE ts >= @from AND ts < @to AND sensor_id IS NOT NULL) s ORDER BY random() LIMIT @n", connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("n", n);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }
}
