using System.Runtime.CompilerServices;
using System.Threading.Channels;
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
    private const int MaxInternedStrings = 100_000;

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
        return $"COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, {samples}, {source}, inserted_at FROM {table.QuotedName} WHERE {where}) TO STDOUT (FORMAT BINARY)";
    }

    /// <summary>
    /// The rows of a window, chunk by chunk. A dedicated reader thread decodes the COPY stream with
    /// synchronous reads (most fields are already buffered, and per-field awaits cost more than the
    /// decoding) and stays at most two chunks ahead, so reading overlaps with routing and writing.
    /// </summary>
    public async IAsyncEnumerable<SourceChunk> ReadAsync(SourceWindow window, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var channel = Channel.CreateBounded<SourceChunk>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Factory.StartNew(() =>
        {
            try
            {
                ReadAll(window, channel.Writer, stop.Token);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await foreach (var chunk in channel.Reader.ReadAllAsync(ct))
                yield return chunk;
        }
        finally
        {
            await stop.CancelAsync();
            try { await reader; } catch (OperationCanceledException) { }
        }
    }

    private void ReadAll(SourceWindow window, ChannelWriter<SourceChunk> output, CancellationToken ct)
    {
        using var connection = dataSource.OpenConnection();
        using var reader = connection.BeginBinaryExport(BuildCopySql(table, window));
        using var cancel = ct.Register(() => reader.Cancel());
        var interned = new Dictionary<string, string>(StringComparer.Ordinal);
        var chunk = NewChunk();
        while (reader.StartRow() != -1)
        {
            var sensorId = ReadClass<string>(reader, NpgsqlDbType.Text);
            var ts = ReadStruct<long>(reader, NpgsqlDbType.TimestampTz);
            var value = ReadStruct<double>(reader, NpgsqlDbType.Double);
            var quality = ReadStruct<int>(reader, NpgsqlDbType.Integer);
            var samples = ReadStruct<int>(reader, NpgsqlDbType.Integer);
            var source = ReadClass<string>(reader, NpgsqlDbType.Text);
            var insertedAt = ReadStruct<long>(reader, NpgsqlDbType.TimestampTz);

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
                // Sharing strings saves memory for the usual few thousand sensors; with millions it starts over instead of growing.
                if (interned.Count >= MaxInternedStrings) interned.Clear();
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
                Publish(output, chunk.ToChunk(), ct);
                chunk = NewChunk();
            }
        }
        if (chunk.Rows.Count > 0 || chunk.Skipped.Total > 0)
            Publish(output, chunk.ToChunk(), ct);
    }

    private static void Publish(ChannelWriter<SourceChunk> output, SourceChunk chunk, CancellationToken ct)
    {
        // Waits while the consumer is two chunks behind: back pressure reaches the COPY.
        if (!output.TryWrite(chunk))
            output.WriteAsync(chunk, ct).AsTask().GetAwaiter().GetResult();
    }

    private ChunkBuilder NewChunk() => new(new MetricRows(chunkRows));

    private static T? ReadStruct<T>(NpgsqlBinaryExporter reader, NpgsqlDbType type) where T : struct
    {
        if (!reader.IsNull) return reader.Read<T>(type);
        reader.Skip();
        return null;
    }

    private static T? ReadClass<T>(NpgsqlBinaryExporter reader, NpgsqlDbType type) where T : class
    {
        if (!reader.IsNull) return reader.Read<T>(type);
        reader.Skip();
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

    private sealed class ChunkBuilder(MetricRows rows)
    {
        public MetricRows Rows { get; } = rows;
        public SkippedRows Skipped { get; } = new();
        public long NonFinite { get; set; }
        public long? MaxInsertedAt { get; set; }
        public SourceChunk ToChunk() => new(Rows, Skipped, NonFinite, MaxInsertedAt);
    }
}
