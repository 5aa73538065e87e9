using AkkaLake.Core.Configuration;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>What replication reads of the source before it plans a step, on one connection.</summary>
/// <param name="NoRowsBefore">Days before this hold no rows; read for a first backfill only.</param>
/// <param name="HeldBackByLag">Rows inserted within the lag guard of the database's now: the next batch leaves them for a later one.</param>
/// <param name="DayScan">How days are read, when the step may read days (backfill, rebuild, takeover); null for a plain incremental tick.</param>
/// <param name="Pass">How a first backfill that has not completed reads its days; null when there is none.</param>
public sealed record SourceState(DatabaseClock Clock, SourceTable Table, DateOnly? NoRowsBefore, long HeldBackByLag, DayScan? DayScan, BackfillPass? Pass = null)
{
    public static async Task<SourceState> ReadAsync(NpgsqlDataSource dataSource, SourceReads reads, CancellationToken ct)
    {
        var (readNoRowsBefore, lagGuard, readsDays, backfillFrom, backfillRead) = reads;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var clock = await DatabaseClock.ReadAsync(connection, ct);
        var table = await SourceTable.DescribeAsync(connection, ct);
        var scan = readsDays || readNoRowsBefore ? await DayScan.ChooseAsync(connection, table, ct) : null;
        var pass = backfillFrom is { } from ? await BackfillPass.ChooseAsync(connection, table, scan!, from, backfillRead, ct) : null;
        var noRowsBefore = readNoRowsBefore ? await table.NoRowsBeforeAsync(connection, scan!, ct) : (DateOnly?)null;
        var heldBack = lagGuard is { } lag && lag > TimeSpan.Zero
            ? await table.CountInsertedAfterAsync(connection, clock.Now - lag, ct)
            : 0;
        return new SourceState(clock, table, noRowsBefore, heldBack, scan, pass);
    }
}

/// <summary>What a plan needs read besides the clock and the table.</summary>
/// <param name="NoRowsBefore">The first day holding rows (a first backfill, once).</param>
/// <param name="LagGuard">Count the rows the lag guard holds back; null when none applies (a backfill).</param>
/// <param name="Days">The step may read whole days, so the day scan is chosen.</param>
/// <param name="BackfillFrom">The first day of a first backfill that has not completed, whose reads are chosen.</param>
/// <param name="BackfillRead">How that backfill reads, as configured.</param>
public sealed record SourceReads(bool NoRowsBefore, TimeSpan? LagGuard, bool Days, DateOnly? BackfillFrom = null, BackfillRead BackfillRead = BackfillRead.Auto);
