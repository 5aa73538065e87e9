using System.Data;
using AkkaLake.Core.Reconciliation;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>PostgreSQL's side of a day's check (<see cref="SourceDigest.ReadDayAsync"/>).</summary>
/// <param name="Digests">Per sensor, the rows the lake is to hold as of the watermark: count and checksum sum.</param>
/// <param name="Pending">
/// Keys of the day stamped after the watermark: new readings replication has not reached, and
/// readings re-sent since (an upsert re-stamps them), whose older version the lake still rightly
/// holds. The lake's side leaves them out too, so neither counts as a difference.
/// </param>
public sealed record DayDigest(IReadOnlyDictionary<string, SensorDigest> Digests, IReadOnlySet<(string SensorId, long TsMicros)> Pending);

/// <summary>
/// PostgreSQL's side of a check: per-sensor row counts and checksum sums of one UTC day, computed
/// in the query so that only one row per sensor crosses the wire, and in the same snapshot the
/// keys stamped after the lake's watermark (few: the rows of the last ticks and re-sent readings).
/// </summary>
public static class SourceDigest
{
    public static string BuildSql(SourceTable table, DayScan scan, DateOnly day) =>
        $"SELECT sensor_id::text, count(*), sum({RowChecksum.Sql()})::bigint FROM {table.QuotedName} " +
        $"WHERE {scan.Condition(day)} AND value IS NOT NULL AND (inserted_at <= @cursor OR inserted_at IS NULL) GROUP BY 1";

    public static string PendingSql(SourceTable table, DayScan scan, DateOnly day) =>
        $"SELECT sensor_id::text, (extract(epoch FROM ts) * 1000000)::bigint FROM {table.QuotedName} WHERE inserted_at > @cursor AND {scan.Condition(day)}";

    public static async Task<DayDigest> ReadDayAsync(
        NpgsqlConnection connection, SourceTable table, DayScan scan, DateOnly day, DateTimeOffset cursor, CancellationToken ct)
    {
        // One snapshot for both: a row re-stamped between them would otherwise be counted on one side only.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await scan.ApplyPlanSettingsAsync(connection, transaction, ct);
        var digests = new Dictionary<string, SensorDigest>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(BuildSql(table, scan, day), connection, transaction) { CommandTimeout = 0 })
        {
            command.Parameters.AddWithValue("cursor", cursor);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                if (!reader.IsDBNull(0))
                    digests[reader.GetString(0)] = new SensorDigest(reader.GetInt64(1), reader.GetInt64(2));
        }
        var pending = new HashSet<(string, long)>();
        await using (var command = new NpgsqlCommand(PendingSql(table, scan, day), connection, transaction) { CommandTimeout = 0 })
        {
            command.Parameters.AddWithValue("cursor", cursor);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                if (!reader.IsDBNull(0))
                    pending.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        await transaction.CommitAsync(ct);
        return new DayDigest(digests, pending);
    }
}
