using AkkaLake.Core.Reconciliation;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>
/// PostgreSQL's side of a check: per-sensor row counts and checksum sums of one UTC day, computed
/// in the query so that only one row per sensor crosses the wire. Rows inserted after the lake's
/// watermark are left out: replication has not reached them yet.
/// </summary>
public static class SourceDigest
{
    public static string BuildSql(SourceTable table, DayScan scan, DateOnly day) =>
        $"SELECT sensor_id::text, count(*), sum({RowChecksum.Sql()})::bigint FROM {table.QuotedName} " +
        $"WHERE {scan.Condition(day)} AND value IS NOT NULL AND (inserted_at <= @cursor OR inserted_at IS NULL) GROUP BY 1";

    public static async Task<IReadOnlyDictionary<string, SensorDigest>> ReadDayAsync(
        NpgsqlConnection connection, SourceTable table, DayScan scan, DateOnly day, DateTimeOffset cursor, CancellationToken ct)
    {
        await using var transaction = scan.BeginRead(connection);
        await using var command = new NpgsqlCommand(BuildSql(table, scan, day), connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("cursor", cursor);
        var digests = new Dictionary<string, SensorDigest>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            if (!reader.IsDBNull(0))
                digests[reader.GetString(0)] = new SensorDigest(reader.GetInt64(1), reader.GetInt64(2));
        return digests;
    }
}
