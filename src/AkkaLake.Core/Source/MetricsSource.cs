using System.Runtime.CompilerServices;
using AkkaLake.Core.Parquet;
using Npgsql;
using NpgsqlTypes;

namespace AkkaLake.Core.Source;

/// <summary>One chunk of exported rows plus what was skipped or noted on the way.</summary>
public sealed record SourceChunk(MetricRows Rows, SkippedRows Skipped, long NonFiniteValues, long? MaxInsertedAtMicros);

/// <summary>
/// Streams the rows of one window out of PostgreSQL with a binary <c>COPY … TO STDOUT</c>, in
/// column-wise chunks. Casts in the query make the wire types the same whatever the deployed
/// column types are; timestamps are read raw (microseconds) so out-of-range values cannot throw.
/// </summary>
public sealed class MetricsSource(NpgsqlDataSource dataSource, SourceTable table, int chunkRows = 65_536)
{
    public static string BuildCopySql(SourceTable table, SourceWindow window)
    {
        var samples = table.HasSamples ? "samples::int4" : "NULL::int4";
        var source = table.HasSource ? "source::text" : "NULL::text";
        var where = window switch
        {
            SourceWindow.Inserted i =>
                $"inserted_at > {Literal(i.After)} AND inserted_at <= {Literal(i.Through)}",
            SourceWindow.BackfillDay b =>
                $"ts >= {Literal(b.Day)}{(b.OpenEnded ? "" : $" AND ts < {Literal(b.Day.AddDays(1))}")} AND (inserted_at <= {Literal(b.Cursor)} OR inserted_at IS NULL)",
            _ => throw new ArgumentOutOfRangeException(nameof(window)),
        };
        return $"COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, {samples}, {source}, inserted_at FROM {Quote(table.Name)} WHERE {where}) TO STDOUT (FORMAT BINARY)";
    }

    public async IAsyncEnumerable<SourceChunk> ReadAsync(SourceWindow window, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await connection.BeginBinaryExportAsync(BuildCopySql(table, window), ct);
        var interned = new Dictionary<string, string>(StringComparer.Ordinal);
        var chunk = NewChunk();
        while (await reader.StartRowAsync(ct) != -1)
        {
            var sensorId = await ReadClass<string>(reader, NpgsqlDbType.Text, ct);
            var ts = await ReadStruct<long>(reader, NpgsqlDbType.TimestampTz, ct);
            var value = await ReadStruct<double>(reader, NpgsqlDbType.Double, ct);
            var quality = await ReadStruct<int>(reader, NpgsqlDbType.Integer, ct);
            var samples = await ReadStruct<int>(reader, NpgsqlDbType.Integer, ct);
            var source = await ReadClass<string>(reader, NpgsqlDbType.Text, ct);
            var insertedAt = await ReadStruct<long>(reader, NpgsqlDbType.TimestampTz, ct);

            if (insertedAt is { } ins && ins != long.MaxValue && ins != long.MinValue)
            {
                var unix = ins + RowRules.PostgresEpochUnixMicros;
                if (chunk.MaxInsertedAt is null || unix > chunk.MaxInsertedAt) chunk.MaxInsertedAt = unix;
            }

            if (RowRules.SensorIdProblem(sensorId) is { } idProblem)
            {
                chunk.Skipped.Add(idProblem, Key(sensorId, ts));
                continue;
            }
            if (ts is not { } pgTs || pgTs == long.MaxValue || pgTs == long.MinValue || !RowRules.TsInRange(pgTs + RowRules.PostgresEpochUnixMicros))
            {
                chunk.Skipped.Add(RowRules.BadTs, Key(sensorId, ts));
                continue;
            }
            if (value is not { } v)
            {
                chunk.Skipped.Add(RowRules.MissingValue, Key(sensorId, ts));
                continue;
            }
            if (!double.IsFinite(v)) chunk.NonFinite++;
            if (!interned.TryGetValue(sensorId!, out var id))
            {
                id = sensorId!;
                interned[id] = id;
            }
            // The source column holds a handful of distinct values: keep one string of each.
            if (source is not null)
            {
                if (interned.TryGetValue(source, out var same)) source = same;
                else interned[source] = source;
            }
            chunk.Rows.Add(id, pgTs + RowRules.PostgresEpochUnixMicros, v, quality, samples, source);
            if (chunk.Rows.Count >= chunkRows)
            {
                yield return chunk.ToChunk();
                chunk = NewChunk();
            }
        }
        if (chunk.Rows.Count > 0 || chunk.Skipped.Total > 0)
            yield return chunk.ToChunk();
    }

    private ChunkBuilder NewChunk() => new(new MetricRows(chunkRows));

    private static async ValueTask<T?> ReadStruct<T>(NpgsqlBinaryExporter reader, NpgsqlDbType type, CancellationToken ct) where T : struct
    {
        if (!reader.IsNull) return await reader.ReadAsync<T>(type, ct);
        await reader.SkipAsync(ct);
        return null;
    }

    private static async ValueTask<T?> ReadClass<T>(NpgsqlBinaryExporter reader, NpgsqlDbType type, CancellationToken ct) where T : class
    {
        if (!reader.IsNull) return await reader.ReadAsync<T>(type, ct);
        await reader.SkipAsync(ct);
        return null;
    }

    private static string Key(string? sensorId, long? pgTs)
    {
        var id = sensorId is null ? "<null>" : sensorId.Length > 64 ? sensorId[..64] + "…" : sensorId;
        var ts = pgTs is { } t && t != long.MaxValue && t != long.MinValue && RowRules.TsInRange(t + RowRules.PostgresEpochUnixMicros)
            ? Timestamps.Format(Timestamps.FromMicros(t + RowRules.PostgresEpochUnixMicros))
            : pgTs is null ? "<null>" : "<out of range>";
        return $"sensor_id={id} ts={ts}";
    }

    private static string Literal(DateTimeOffset t) => $"'{Timestamps.Format(t)}'::timestamptz";

    private static string Literal(DateOnly d) => $"'{d:yyyy-MM-dd}T00:00:00Z'::timestamptz";

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed class ChunkBuilder(MetricRows rows)
    {
        public MetricRows Rows { get; } = rows;
        public SkippedRows Skipped { get; } = new();
        public long NonFinite { get; set; }
        public long? MaxInsertedAt { get; set; }
        public SourceChunk ToChunk() => new(Rows, Skipped, NonFinite, MaxInsertedAt);
    }
}
