using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>One chunk of exported rows, already split by shard-day, plus what was skipped or noted on the way.</summary>
public sealed record SourceChunk(RoutedRows Rows, SkippedRows Skipped, long NonFiniteValues, long NullQualities, long? MaxInsertedAtMicros);

/// <summary>
/// The rows of one window out of PostgreSQL with a binary <c>COPY … TO STDOUT</c>. Casts in the
/// query make the wire types the same whatever the deployed column types are; timestamps are read
/// raw (microseconds) so out-of-range values cannot throw.
/// </summary>
public sealed class MetricsSource(NpgsqlDataSource dataSource, SourceTable table, int chunkRows = 65_536, DayScan? dayScan = null)
{
    /// <param name="dayScan">How a day is selected; by ts alone when not given.</param>
    public static string BuildCopySql(SourceTable table, SourceWindow window, DayScan? dayScan = null)
    {
        var samples = table.HasSamples ? "samples::int4" : "NULL::int4";
        var source = table.HasSource ? "source::text" : "NULL::text";
        var where = window switch
        {
            SourceWindow.Inserted i =>
                $"inserted_at > {Literal(i.After)} AND inserted_at <= {Literal(i.Through)}",
            SourceWindow.BackfillDays b =>
                $"{(dayScan ?? ByTs).Condition(b)} AND (inserted_at <= {Literal(b.Cursor)} OR inserted_at IS NULL)",
            _ => throw new ArgumentOutOfRangeException(nameof(window)),
        };
        return $"COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, {samples}, {source}, inserted_at FROM {table.QuotedName} WHERE {where}) TO STDOUT (FORMAT BINARY)";
    }

    /// <summary>Starts the COPY of a window; it is read a chunk at a time with <see cref="Reader.Next"/>.</summary>
    public Reader Open(SourceWindow window, RowRouter router) =>
        new(dataSource.OpenConnection(), window is SourceWindow.BackfillDays { IsOneDay: true } ? dayScan : null, BuildCopySql(table, window, dayScan), router, chunkRows);

    /// <summary>
    /// Decodes the COPY stream with synchronous reads (most fields are already buffered, and
    /// per-field awaits cost more than the decoding) into column-wise chunks routed to their
    /// shard-days, so the chunk's buffers are filled once, on the thread that reads.
    /// </summary>
    public sealed class Reader : IChunkReader
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction? _transaction;
        private readonly NpgsqlRawCopyStream _raw;
        private readonly BinaryCopyReader _copy;
        private readonly RowRouter _router;
        private readonly int _chunkRows;
        private readonly SharedStrings _strings = new();
        // Decoded into, routed out of, and reused: a chunk's large arrays are not garbage for every chunk.
        private readonly MetricRows _rows;
        private bool _ended;

        internal Reader(NpgsqlConnection connection, DayScan? dayScan, string copySql, RowRouter router, int chunkRows)
        {
            _connection = connection;
            try
            {
                _transaction = dayScan?.BeginRead(connection);
                _raw = connection.BeginRawBinaryCopy(copySql);
                _copy = new BinaryCopyReader(_raw);
                _copy.ReadHeader();
            }
            catch
            {
                connection.Dispose();
                throw;
            }
            _router = router;
            _chunkRows = chunkRows;
            _rows = new MetricRows(chunkRows);
        }

        /// <summary>The next chunk, or null once the COPY is read to its end.</summary>
        public SourceChunk? Next()
        {
            if (_ended) return null;
            var rows = _rows;
            rows.Clear();
            var chunk = new ChunkBuilder();
            int fields;
            while (rows.Count < _chunkRows && (fields = _copy.StartRow()) != -1)
            {
                if (fields != 7) throw new InvalidDataException($"The COPY returned rows of {fields} fields; expected 7.");
                var sensorId = _copy.Field(out var idBytes) ? _strings.Get(idBytes) : null;
                var ts = _copy.Int64();
                var value = _copy.Double();
                var quality = _copy.Int32();
                var samples = _copy.Int32();
                var source = _copy.Field(out var sourceBytes) ? _strings.Get(sourceBytes) : null;
                var insertedAt = _copy.Int64();

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
            }
            if (rows.Count < _chunkRows)
            {
                _ended = true;
                // The COPY is read whole: its transaction ends now, not when the chunk is consumed.
                _raw.Dispose();
                _transaction?.Dispose();
            }
            return rows.Count > 0 || chunk.Skipped.Total > 0 ? chunk.ToChunk(_router.Route(rows)) : null;
        }

        /// <summary>Stops the COPY from any thread; a <see cref="Next"/> waiting for rows then throws.</summary>
        public void Cancel()
        {
            try
            {
                _raw.Cancel();
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                // A COPY already over or a broken connection has nothing left to stop.
            }
        }

        public void Dispose()
        {
            if (!_ended) Cancel();
            _raw.Dispose();
            _transaction?.Dispose();
            _connection.Dispose();
        }
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
}
