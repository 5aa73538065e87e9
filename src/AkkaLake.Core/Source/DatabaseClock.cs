using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>What the database says about the cursor right now, in its own clock.</summary>
public sealed record DatabaseClock(DateTimeOffset Now, DateTimeOffset? OldestOpenTransactionStart, IReadOnlyList<string> PreparedTransactions, bool CanSeeAllSessions)
{
    /// <summary>
    /// One query, run before the export's snapshot: the server clock, the start of the oldest
    /// transaction still open in this database (idle-in-transaction sessions included), and any
    /// prepared transactions. A transaction's rows carry its start time as inserted_at, so the
    /// cursor must stay before it until it commits.
    /// </summary>
    public static async Task<DatabaseClock> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT clock_timestamp(),
                   (SELECT min(xact_start) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()
                       AND backend_type = 'client backend' AND xact_start IS NOT NULL),
                   (SELECT coalesce(array_agg(gid::text), '{}') FROM pg_prepared_xacts WHERE database = current_database()),
                   (SELECT count(*) = 0 FROM pg_stat_activity
                     WHERE datname = current_database() AND backend_type = 'client backend' AND state IS NULL AND pid <> pg_backend_pid())
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new DatabaseClock(
            reader.GetFieldValue<DateTimeOffset>(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.GetFieldValue<string[]>(2),
            reader.GetBoolean(3));
    }
}
