using System.Collections.Concurrent;
using System.Data;
using System.Runtime.ExceptionServices;
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
    private NpgsqlDataSource DataSource => dataSource;
    private SourceTable Table => table;
    private int ChunkRows => chunkRows;

    /// <param name="dayScan">How a day is selected; by ts alone when not given.</param>
    /// <param name="piece">One piece of the table to read, not all of it.</param>
    public static string BuildCopySql(SourceTable table, SourceWindow window, DayScan? dayScan = null, TablePiece? piece = null)
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
        var from = piece is null ? table.QuotedName : $"ONLY {piece.Relation}";
        if (piece is not null) where = $"{piece.Condition} AND {where}";
        return $"COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, {samples}, {source}, inserted_at FROM {from} WHERE {where}) TO STDOUT (FORMAT BINARY)";
    }

    /// <summary>Starts the COPY of a window; it is read a chunk at a time with <see cref="Reader.Next"/>.</summary>
    public Reader Open(SourceWindow window, RowRouter router)
    {
        var scan = window is SourceWindow.BackfillDays { IsOneDay: true } ? dayScan : null;
        return new(dataSource.OpenConnection(), c => scan?.BeginRead(c), BuildCopySql(table, window, dayScan), router, chunkRows);
    }

    /// <summary>
    /// Reads a window as pieces of the table (<see cref="TablePieces"/>), <paramref name="streams"/>
    /// at once, each on a connection of its own, all under one snapshot; one stream reads as <see cref="Open"/> does.
    /// </summary>
    public IChunkReader OpenPieces(SourceWindow window, RowRouter router, int streams, long smallestPieceBlocks = TablePieces.SmallestPieceBlocks) =>
        streams <= 1 ? Open(window, router) : new PiecesReader(this, window, router, streams, smallestPieceBlocks);

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

        /// <param name="begin">Begins the transaction the COPY runs in, if it needs one.</param>
        internal Reader(NpgsqlConnection connection, Func<NpgsqlConnection, NpgsqlTransaction?> begin, string copySql, RowRouter router, int chunkRows)
        {
            _connection = connection;
            try
            {
                _transaction = begin(connection);
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

    /// <summary>
    /// The pieces of a window read by several streams, each a thread with a connection of its own
    /// taking the next piece as it finishes one. One transaction exports its snapshot
    /// (<c>pg_export_snapshot()</c>) and stays open until every piece is read; each piece's
    /// transaction reads in that snapshot, so rows inserted, updated (moved to another row
    /// location) or deleted meanwhile are neither doubled nor lost. Chunks come in the order the
    /// streams read them; a failed stream stops the others and fails the read.
    /// </summary>
    private sealed class PiecesReader : IChunkReader
    {
        private readonly NpgsqlConnection _exporter;
        private readonly NpgsqlTransaction _snapshot;
        private readonly BlockingCollection<SourceChunk> _chunks;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<Reader, bool> _reading = new();
        private readonly Task _streams;
        private Exception? _failure;

        public PiecesReader(MetricsSource source, SourceWindow window, RowRouter router, int streams, long smallestPieceBlocks)
        {
            _exporter = source.DataSource.OpenConnection();
            string snapshot;
            IReadOnlyList<TablePiece> pieces;
            try
            {
                _snapshot = _exporter.BeginTransaction(IsolationLevel.RepeatableRead);
                using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", _exporter, _snapshot))
                    snapshot = (string)export.ExecuteScalar()!;
                pieces = TablePieces.Plan(TablePieces.Relations(_exporter, source.Table, _snapshot), streams, smallestPieceBlocks);
            }
            catch
            {
                _exporter.Dispose();
                throw;
            }
            var queue = new ConcurrentQueue<TablePiece>(pieces);
            _chunks = new BlockingCollection<SourceChunk>(streams);
            _streams = Task.WhenAll(Enumerable.Range(0, Math.Min(streams, pieces.Count)).Select(_ => Task.Factory.StartNew(
                () => Stream(source, window, router.Another(), snapshot, queue), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)))
                .ContinueWith(_ => _chunks.CompleteAdding(), TaskScheduler.Default);
        }

        private void Stream(MetricsSource source, SourceWindow window, RowRouter router, string snapshot, ConcurrentQueue<TablePiece> pieces)
        {
            try
            {
                while (!_stop.IsCancellationRequested && pieces.TryDequeue(out var piece))
                {
                    using var reader = new Reader(source.DataSource.OpenConnection(), c => InSnapshot(c, snapshot),
                        BuildCopySql(source.Table, window, null, piece), router, source.ChunkRows);
                    _reading[reader] = true;
                    try
                    {
                        while (reader.Next() is { } chunk) _chunks.Add(chunk, _stop.Token);
                    }
                    finally
                    {
                        _reading.TryRemove(reader, out _);
                    }
                }
            }
            catch (Exception e)
            {
                if (!_stop.IsCancellationRequested) Interlocked.CompareExchange(ref _failure, e, null);
                Cancel();
            }
        }

        private static NpgsqlTransaction InSnapshot(NpgsqlConnection connection, string snapshot)
        {
            var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
            using var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot.Replace("'", "''", StringComparison.Ordinal)}'", connection, transaction);
            set.ExecuteNonQuery();
            return transaction;
        }

        public SourceChunk? Next()
        {
            try
            {
                if (_chunks.TryTake(out var chunk, Timeout.Infinite, _stop.Token)) return chunk;
            }
            catch (OperationCanceledException) when (Volatile.Read(ref _failure) is not null)
            {
            }
            if (Volatile.Read(ref _failure) is { } failure) ExceptionDispatchInfo.Throw(failure);
            _stop.Token.ThrowIfCancellationRequested();
            return null;
        }

        public void Cancel()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            foreach (var reader in _reading.Keys) reader.Cancel();
        }

        public void Dispose()
        {
            Cancel();
            // The streams stop at once when cancelled; their connections go back to the pool as they do.
            _streams.Wait(TimeSpan.FromSeconds(30));
            _snapshot.Dispose();
            _exporter.Dispose();
            _chunks.Dispose();
            _stop.Dispose();
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
