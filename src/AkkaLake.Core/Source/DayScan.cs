using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>
/// How one UTC day of the source is read, for backfills, rebuilds and reconciliation. With an
/// index led by <c>ts</c> (a TimescaleDB hypertable has one) it is a range on it. Without one a
/// day filter on ts alone is a scan of the whole table, so each day would cost the whole history;
/// then the day is read as one ts range per sensor over the primary key <c>(sensor_id, ts)</c>,
/// which PostgreSQL answers with a bitmap of index ranges: the day's rows and nothing else.
/// </summary>
/// <param name="Index">The index days are read by: led by ts, or else led by sensor_id; null when there is neither.</param>
/// <param name="Sensors">Reading by the sensor_id index: every sensor_id of the table, found by a skip scan of it.</param>
public sealed record DayScan(string? Index, IReadOnlyList<string>? Sensors)
{
    public static async Task<DayScan> ChooseAsync(NpgsqlConnection connection, SourceTable table, CancellationToken ct)
    {
        if (await IndexLedByAsync(connection, table, "ts", ct) is { } time) return new DayScan(time, null);
        if (await IndexLedByAsync(connection, table, "sensor_id", ct) is { } sensor) return new DayScan(sensor, await SensorIdsAsync(connection, table, ct));
        return new DayScan(null, null);
    }

    private static async Task<string?> IndexLedByAsync(NpgsqlConnection connection, SourceTable table, string column, CancellationToken ct)
    {
        await using var index = new NpgsqlCommand("""
            SELECT c.relname FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = to_regclass(@table) AND a.attname = @column AND i.indisvalid AND i.indpred IS NULL
             ORDER BY c.relname LIMIT 1
            """, connection);
        index.Parameters.AddWithValue("table", table.QuotedName);
        index.Parameters.AddWithValue("column", column);
        return await index.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Distinct sensor ids, one index probe each (PostgreSQL has no skip scan of its own before 18).</summary>
    private static async Task<IReadOnlyList<string>> SensorIdsAsync(NpgsqlConnection connection, SourceTable table, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            WITH RECURSIVE s(id) AS (
              (SELECT sensor_id::text FROM {table.QuotedName} WHERE sensor_id IS NOT NULL ORDER BY sensor_id LIMIT 1)
              UNION ALL
              SELECT (SELECT m.sensor_id::text FROM {table.QuotedName} m WHERE m.sensor_id > s.id ORDER BY m.sensor_id LIMIT 1)
                FROM s WHERE s.id IS NOT NULL)
            SELECT id FROM s WHERE id IS NOT NULL
            """, connection) { CommandTimeout = 0 };
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>
    /// What a day's read sets for its transaction. PostgreSQL's estimate for a list of every sensor
    /// is close to the whole table, and on 90 days of 500 sensors it chose a parallel scan of all
    /// 64.8M rows for each day (3.0 s a day, 0.15 x the source limit) over the bitmap of the
    /// primary key's ranges (0.7 s); with sequential scans off it takes the bitmap whatever the
    /// statistics say. The same estimate is far above the JIT thresholds, and compiling the plan in
    /// the leader and each worker cost 0.3 s of CPU for a 0.5 s read, on every day; a plain
    /// range read gains nothing from it. Null when days are read by a time index.
    /// </summary>
    private string? PlanSettings => Sensors is { Count: > 0 } ? "SET LOCAL enable_seqscan = off; SET LOCAL jit = off" : null;

    /// <summary>Starts the transaction a day's read runs in, with <see cref="PlanSettings"/>; null when none is needed.</summary>
    public NpgsqlTransaction? BeginRead(NpgsqlConnection connection)
    {
        if (PlanSettings is not { } setting) return null;
        var transaction = connection.BeginTransaction();
        using var command = new NpgsqlCommand(setting, connection, transaction);
        command.ExecuteNonQuery();
        return transaction;
    }

    /// <summary>Applies <see cref="PlanSettings"/>, if any, to a transaction begun by the caller.</summary>
    public async Task ApplyPlanSettingsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        if (PlanSettings is not { } setting) return;
        await using var command = new NpgsqlCommand(setting, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The WHERE condition selecting ts on <paramref name="day"/>.</summary>
    public string Condition(DateOnly day) => Condition(SourceWindow.BackfillDays.Day(day, false, default));

    /// <summary>
    /// The WHERE condition selecting the window's days by ts. Several days are read in one pass over
    /// the table (<see cref="BackfillPass"/>), so by ts alone.
    /// </summary>
    public string Condition(SourceWindow.BackfillDays window)
    {
        var range = $"ts >= {Literal(window.From)}" + (window.OpenEnded ? "" : $" AND ts < {Literal(window.Through.AddDays(1))}");
        if (Sensors is null || !window.IsOneDay) return range;
        return Sensors.Count == 0 ? "false" : $"sensor_id = ANY(ARRAY[{string.Join(",", Sensors.Select(Quote))}]::text[]) AND {range}";
    }

    /// <summary>The oldest day holding rows (see <see cref="SourceTable.NoRowsBeforeAsync"/>), read the way this scan can answer it.</summary>
    public string OldestTsSql(SourceTable table) => Sensors is null
        ? $"SELECT extract(epoch FROM min(ts))::float8 FROM {table.QuotedName}"
        : Sensors.Count == 0
            ? "SELECT NULL::float8"
            : $"SELECT extract(epoch FROM min(f.ts))::float8 FROM unnest(ARRAY[{string.Join(",", Sensors.Select(Quote))}]::text[]) AS u(id) " +
              $"CROSS JOIN LATERAL (SELECT ts FROM {table.QuotedName} WHERE sensor_id = u.id ORDER BY ts LIMIT 1) f";

    public string Describe() => (Index, Sensors) switch
    {
        (null, _) => "the source table has no index led by ts or sensor_id, so each day read is a scan of the whole table; create one on ts (a TimescaleDB hypertable has it)",
        ({ } index, null) => $"each day is read by the time index {index}",
        ({ } index, { } sensors) => $"the source table has no index led by ts, so each day is read as one ts range per sensor ({sensors.Count} sensors) over {index}, with sequential scans and JIT compilation off for that read, instead of a scan of the whole table",
    };

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The start of <paramref name="d"/> (UTC) as a timestamptz literal.</summary>
    internal static string Literal(DateOnly d) => $"'{d:yyyy-MM-dd}T00:00:00Z'::timestamptz";
}
