using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>The source table as deployed: which optional columns (<c>samples</c>, <c>source</c>) it has.</summary>
public sealed record SourceTable(string Name, bool HasSamples, bool HasSource)
{
    public const string DefaultName = "metrics";

    public static async Task<SourceTable> DescribeAsync(NpgsqlConnection connection, CancellationToken ct, string name = DefaultName)
    {
        await using var command = new NpgsqlCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t", connection);
        command.Parameters.AddWithValue("t", name);
        var columns = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                columns.Add(reader.GetString(0));
        if (columns.Count == 0)
            throw new InvalidOperationException($"The source table '{name}' does not exist in the database's current schema.");
        string[] required = ["sensor_id", "ts", "value", "inserted_at"];
        var missing = required.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"The source table '{name}' lacks required columns: {string.Join(", ", missing)}.");
        return new SourceTable(name, columns.Contains("samples"), columns.Contains("source"));
    }

    /// <summary>
    /// Days before the returned one hold no rows: the UTC date of the oldest ts, or
    /// <see cref="DateOnly.MaxValue"/> when no row has a ts. An oldest ts outside the lake's range
    /// (<c>-infinity</c>, before year 1) gives <see cref="DateOnly.MinValue"/>, which rules out nothing.
    /// PostgreSQL answers <c>min(ts)</c> from the time index, or without one from the primary key per sensor.
    /// </summary>
    public async Task<DateOnly> NoRowsBeforeAsync(NpgsqlConnection connection, DayScan scan, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(scan.OldestTsSql(this), connection) { CommandTimeout = 0 };
        if (await command.ExecuteScalarAsync(ct) is not double seconds) return DateOnly.MaxValue;
        return double.IsFinite(seconds) && seconds >= -62_135_596_800d && seconds < 253_402_300_800d
            ? DateOnly.FromDateTime(DateTime.UnixEpoch.AddSeconds(Math.Floor(seconds)))
            : DateOnly.MinValue;
    }

    /// <summary>Rows inserted after <paramref name="after"/>; the inserted_at index answers it.</summary>
    public async Task<long> CountInsertedAfterAsync(NpgsqlConnection connection, DateTimeOffset after, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {QuotedName} WHERE inserted_at > @after", connection);
        command.Parameters.AddWithValue("after", after);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public string QuotedName => "\"" + Name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
