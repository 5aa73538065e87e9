using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>One chunk of exported rows, already split by shard-day, plus what was skipped or noted on the way.</summary>
public sealed record SourceChunk(RoutedRows Rows, SkippedRows Skipped, long NonFiniteValues, long NullQualities, long? MaxInsertedAtMicros);

/// <summary>A window being read: its routed chunks, in order. Disposing it stops the COPY.</summary>
public sealed class SourceExport(ChannelReader<SourceChunk> chunks, Task reader, CancellationTokenSource stop) : IAsyncDisposable
{
    /// <summary>The chunks; the export is disposed when the enumeration ends, however it ends.</summary>
    public async IAsyncEnumerable<SourceChunk> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        try
        {
            await foreach (var chunk in chunks.ReadAllAsync(ct))
                yield return chunk;
        }
        finally
        {
            await DisposeAsync();
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await stop.CancelAsync();
        try { await reader; } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}

/// <summary>
/// Streams the rows of one window out of PostgreSQL with a binary <c>COPY … TO STDOUT</c>, in
/// column-wise chunks routed to their shard-days on the reader thread (so one chunk buffer is
/// reused there instead of a new one travelling to the replication actor). Casts in the query make the wire types the same whatever the deployed
/// column types are; timestamps are read raw (microseconds) so out-of-range values cannot throw.
/// </summary>
public sealed class MetricsSource(NpgsqlDataSource dataSource, SourceTable table, int chunkRows = 65_536, DayScan? dayScan = null)
{
    private const int MaxInternedStrings = 100_000;

    /// <param name="dayScan">How a day is selected; by ts alone when not given.</param>
    public static string BuildCopySql(SourceTable table, SourceWindow window, DayScan? dayScan = null)
    {
        var samples = table.HasSamples ? "samples::int4" : "NULL::int4";
        var source = table.HasSource ? "source::text" : "NULL::text";
        var where = window switch
        {
            SourceWindow.Inserted i =>
                $"inserted_at > {Literal(i.After)} AND inserted_at <= {Literal(i.Through)}",
            SourceWindow.BackfillDay b =>
                $"{(dayScan ?? ByTs).Condition(b.Day, b.OpenEnded)} AND (inserted_at <= {Literal(b.Cursor)} OR inserted_at IS NULL)",
            _ => throw new ArgumentOutOfRangeException(nameof(window)),
        };
        return $"COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, {samples}, {source}, inserted_at FROM {table.QuotedName} WHERE {where}) TO STDOUT (FORMAT BINARY)";
    }

    /// <summary>
    /// Starts reading a window: a dedicated reader thread decodes the COPY stream with synchronous
    /// reads (most fields are already buffered, and per-field awaits cost more than the decoding),
    /// routes it, and stays at most <paramref name="readAhead"/> chunks ahead of the consumer.
    /// </summary>
    public SourceExport Start(SourceWindow window, RowRouter router, int readAhead = 2)
    {
        var channel = Channel.CreateBounded<SourceChunk>(new BoundedChannelOptions(readAhead) { SingleReader = true, SingleWriter = true });
        var stop = new CancellationTokenSource();
        var reader = Task.Factory.StartNew(() =>
        {
            try
            {
                ReadAll(window, router, channel.Writer, stop.Token);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return new SourceExport(channel.Reader, reader, stop);
    }

    private void ReadAll(SourceWindow window, RowRouter router, ChannelWriter<SourceChunk> output, CancellationToken ct)
    {
        using var connection = dataSource.OpenConnection();
        using var raw = connection.BeginRawBinaryCopy(BuildCopySql(table, window, dayScan));
        using var cancel = ct.Register(raw.Cancel);
        var copy = new BinaryCopyReader(raw);
        copy.ReadHeader();
        var strings = new SharedStrings();
        var rows = new MetricRows(chunkRows);
        var chunk = new ChunkBuilder();
        int fields;
        while ((fields = copy.StartRow()) != -1)
        {
            if (fields != 7) throw new InvalidDataException($"The COPY returned rows of {fields} fields; expected 7.");
            var sensorId = copy.Field(out var idBytes) ? strings.Get(idBytes) : null;
            var ts = copy.Int64();
            var value = copy.Double();
            var quality = copy.Int32();
            var samples = copy.Int32();
            var source = copy.Field(out var sourceBytes) ? strings.Get(sourceBytes) : null;
            var insertedAt = copy.Int64();

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
            if (quality is null) chunk.NullQualities++;
            rows.Add(sensorId!, pgTs + RowRules.PostgresEpochUnixMicros, v, quality ?? 0, samples, source);
            if (rows.Count >= chunkRows)
            {
                Publish(output, chunk.ToChunk(router.Route(rows)), ct);
                rows.Clear();
                chunk = new ChunkBuilder();
            }
        }
        if (rows.Count > 0 || chunk.Skipped.Total > 0)
            Publish(output, chunk.ToChunk(router.Route(rows)), ct);
    }

    private static void Publish(ChannelWriter<SourceChunk> output, SourceChunk chunk, CancellationToken ct)
    {
        // Waits while the consumer is two chunks behind: back pressure reaches the COPY.
        if (!output.TryWrite(chunk))
            output.WriteAsync(chunk, ct).AsTask().GetAwaiter().GetResult();
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

    private static readonly DayScan ByTs = new(null, null);

    private sealed class ChunkBuilder
    {
        public SkippedRows Skipped { get; } = new();
        public long NonFinite { get; set; }
        public long NullQualities { get; set; }
        public long? MaxInsertedAt { get; set; }
        public SourceChunk ToChunk(RoutedRows rows) => new(rows, Skipped, NonFinite, NullQualities, MaxInsertedAt);
    }

    /// <summary>
    /// One string per distinct UTF-8 value (sensor ids, the handful of sources): looked up by the
    /// decoded characters, so a row allocates no string. With millions of distinct ids it starts
    /// over instead of growing.
    /// </summary>
    private sealed class SharedStrings
    {
        private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
        private char[] _chars = new char[256];

        public string Get(ReadOnlySpan<byte> utf8)
        {
            if (_chars.Length < utf8.Length) _chars = new char[Math.Max(utf8.Length, _chars.Length * 2)];
            var chars = _chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(utf8, _chars));
            if (_strings.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var shared)) return shared;
            if (_strings.Count >= MaxInternedStrings) _strings.Clear();
            shared = new string(chars);
            _strings[shared] = shared;
            return shared;
        }
    }
}
