using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>
/// What AkkaLake's own sessions in PostgreSQL are doing, from <c>pg_stat_activity</c> and
/// <c>pg_blocking_pids</c>: asked when replication has made no progress for a while, so the
/// report names the session that holds a lock (its pid, user, application and query), or says
/// that PostgreSQL is still working on a long read. Sessions are found by their application name.
/// </summary>
public static class SessionWaits
{
    /// <summary>What one of our sessions waits on.</summary>
    /// <param name="Stuck">It waits on another session (a lock), not on its own work.</param>
    public sealed record Wait(int Pid, bool Stuck, string Description);

    public static async Task<IReadOnlyList<Wait>> ReadAsync(NpgsqlConnection connection, string applicationName, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT a.pid, a.wait_event_type, a.wait_event, extract(epoch FROM now() - a.query_start)::int,
                   b.pid, b.usename, b.application_name, b.state, left(regexp_replace(b.query, '\s+', ' ', 'g'), 200),
                   extract(epoch FROM now() - coalesce(b.xact_start, b.query_start))::int
              FROM pg_stat_activity a
              LEFT JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS blocker(pid) ON true
              LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid
             WHERE a.application_name = @app AND a.pid <> pg_backend_pid() AND a.state = 'active'
             ORDER BY a.query_start
            """, connection);
        command.Parameters.AddWithValue("app", applicationName);
        var waits = new List<Wait>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var pid = reader.GetInt32(0);
            var seconds = reader.IsDBNull(3) ? 0 : reader.GetInt32(3);
            if (!reader.IsDBNull(4))
            {
                var user = reader.IsDBNull(5) ? "?" : reader.GetString(5);
                var app = reader.IsDBNull(6) || reader.GetString(6).Length == 0 ? "" : $", {reader.GetString(6)}";
                var state = reader.IsDBNull(7) ? "?" : reader.GetString(7);
                var query = reader.IsDBNull(8) ? "" : reader.GetString(8);
                var open = reader.IsDBNull(9) ? 0 : reader.GetInt32(9);
                waits.Add(new Wait(pid, true,
                    $"PostgreSQL session {pid} has waited {seconds} s for a lock held by session {reader.GetInt32(4)} (user {user}{app}, {state} for {open} s: \"{query}\")"));
            }
            else
            {
                var on = reader.IsDBNull(1) ? "working" : $"waiting on {reader.GetString(1)}: {reader.GetString(2)}";
                waits.Add(new Wait(pid, false, $"PostgreSQL session {pid} has worked on AkkaLake's query for {seconds} s ({on})"));
            }
        }
        return waits;
    }
}
