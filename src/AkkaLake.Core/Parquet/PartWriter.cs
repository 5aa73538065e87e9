using AkkaLake.Core.Storage;
using ParquetSharp;
using ParquetSharp.IO;

namespace AkkaLake.Core.Parquet;

/// <summary>What a finished part file holds; recorded in the manifest when it is committed.</summary>
/// <param name="Xxh3">Checksum of the whole file, so verify can tell a file changed on disk from the one committed.</param>
public sealed record WrittenPart(string TmpPath, long Rows, long Bytes, long MinTsMicros, long MaxTsMicros, string? Xxh3 = null);

/// <summary>
/// Writes sorted rows to a new <c>.tmp</c> part file, flushed to disk. Publishing it (the rename)
/// is the commit's job, not the writer's. Rows may be added in chunks of any size: they stream
/// into a buffered row group (its pages encoded and compressed as they come), which closes at the
/// first sensor boundary past <see cref="PartFormat.SensorAlignedRowGroupRows"/> rows or at the
/// row cap, whatever the chunks were. Only the first group's rows are held raw, in a buffer kept
/// for the next part, until they show how <c>ts</c> is to be encoded (<see cref="PartEncoding.DictionaryFor"/>).
/// </summary>
public sealed class PartWriter : IDisposable
{
    private const int Aligned = PartFormat.SensorAlignedRowGroupRows;

    private readonly FileStream _stream;
    private readonly ManagedOutputStream _output;
    private readonly PartEncoding _encoding;
    private readonly int _rowGroupRows;
    private readonly Dictionary<string, string> _keyValues;
    private ParquetFileWriter? _writer;
    // The first rows, until there are enough to choose the ts encoding from.
    private MetricRows? _sample;
    private Group? _group;
    private SensorRanges? _sensorRanges = new();
    private string? _lastSensorId;
    private long _lastTs;
    private long _rows;
    private long _minTs = long.MaxValue;
    private long _maxTs = long.MinValue;
    private bool _closed;

    /// <param name="encoding">How ts and value are encoded; the lake's own unless the benchmark measures another.</param>
    public PartWriter(string tmpPath, PartMetadata metadata, int rowGroupRows, PartEncoding? encoding = null)
    {
        if (!tmpPath.EndsWith(AtomicFile.TmpSuffix, StringComparison.Ordinal))
            throw new ArgumentException($"A part is written as {AtomicFile.TmpSuffix} first; got {tmpPath}.", nameof(tmpPath));
        TmpPath = tmpPath;
        _rowGroupRows = rowGroupRows;
        _stream = AtomicFile.CreateTmp(tmpPath);
        _output = new ManagedOutputStream(_stream, leaveOpen: true);
        _encoding = encoding ?? PartEncoding.Default;
        // ParquetSharp reads the key-value metadata at Close, so the sensor ranges are added by Finish.
        _keyValues = new Dictionary<string, string>(metadata.ToKeyValues());
    }

    public string TmpPath { get; }

    /// <summary>Bytes written so far, the open row group's compressed pages included, to roll output files at a size target.</summary>
    public long BytesWritten => _stream.Position + (_group?.CompressedBytes ?? 0);

    /// <summary>Rows held raw before the file is opened: the first group's, up to the aligned size.</summary>
    private int SampleRows => Math.Min(Aligned, _rowGroupRows);

    /// <summary>Appends rows that are sorted and sort after everything already written.</summary>
    public void Append(MetricRows rows)
    {
        if (rows.Count == 0) return;
        CheckOrder(rows);
        var start = 0;
        if (_writer is null)
        {
            _sample ??= Samples.Rent(SampleRows);
            start = Math.Min(rows.Count, SampleRows - _sample.Count);
            _sample.AddRange(rows, 0, start);
            if (_sample.Count < SampleRows) return;
            OpenWithSample();
        }
        Write(rows, start);
    }

    private void OpenWithSample()
    {
        var sample = _sample!;
        Open(sample.TsMicros);
        Write(sample, 0);
        Samples.Return(sample);
        _sample = null;
    }

    private void Open(ReadOnlySpan<long> firstTs)
    {
        using var schema = PartFormat.CreateSchema();
        using var properties = PartFormat.CreateWriterProperties(_rowGroupRows, _encoding, _encoding.DictionaryFor(firstTs));
        _writer = new ParquetFileWriter(_output, schema, properties, _keyValues);
    }

    /// <summary>Streams rows [start, Count) into row groups, closing each at the first sensor boundary past the aligned size, or at the cap.</summary>
    private void Write(MetricRows rows, int start)
    {
        var ids = rows.SensorIds;
        for (var i = start; i < rows.Count;)
        {
            if (_group is { } open && (open.Rows >= _rowGroupRows || (open.Rows >= Aligned && !string.Equals(ids[i], open.LastSensorId, StringComparison.Ordinal))))
                CloseGroup();
            var group = _group ??= new Group(_writer!.AppendBufferedRowGroup());
            var limit = Math.Min(rows.Count, i + (int)Math.Min(int.MaxValue, _rowGroupRows - group.Rows));
            var end = group.Rows < Aligned ? Math.Min(limit, i + (int)(Aligned - group.Rows)) : i;
            // A group that reached its size takes the rest of its last sensor's rows.
            var sensor = end > i ? ids[end - 1] : group.LastSensorId;
            while (end < limit && string.Equals(ids[end], sensor, StringComparison.Ordinal)) end++;
            group.Write(rows, i, end - i);
            Track(rows, i, end - i);
            i = end;
        }
    }

    private void Track(MetricRows rows, int start, int count)
    {
        var ts = rows.TsMicros.Slice(start, count);
        foreach (var t in ts)
        {
            if (t < _minTs) _minTs = t;
            if (t > _maxTs) _maxTs = t;
        }
        if (_sensorRanges is { } ranges && !ranges.Add(rows.SensorIds.Slice(start, count), ts)) _sensorRanges = null;
        _rows += count;
    }

    private void CloseGroup()
    {
        _group?.Dispose();
        _group = null;
    }

    public WrittenPart Finish()
    {
        if (_writer is null)
        {
            if (_sample is not null) OpenWithSample();
            else Open([]);
        }
        CloseGroup();
        if (_sensorRanges is { } ranges && _rows >= SensorRanges.MinRows) _keyValues[SensorRanges.Key] = ranges.Encode();
        _writer!.Close();
        _stream.Flush(flushToDisk: true);
        _closed = true;
        var bytes = _stream.Length;
        // Closed before the checksum pass: the file was opened for this writer alone.
        _stream.Dispose();
        return new WrittenPart(TmpPath, _rows, bytes, _minTs, _maxTs, FileChecksum.Of(TmpPath));
    }

    /// <summary>Before <see cref="Finish"/>, abandons the part: a full disk or failed write is not thrown again, the caller deletes the file.</summary>
    public void Dispose()
    {
        if (_sample is { } sample) Samples.Return(sample);
        if (!_closed)
        {
            try
            {
                CloseGroup();
                _writer?.Close();
            }
            catch (Exception e) when (e is ParquetException or IOException)
            {
            }
        }
        _writer?.Dispose();
        _output.Dispose();
        try { _stream.Dispose(); } catch (IOException) when (!_closed) { }
    }

    /// <summary>Writes one complete part in a single call.</summary>
    public static WrittenPart Write(string tmpPath, MetricRows sortedRows, PartMetadata metadata, int rowGroupRows)
    {
        try
        {
            using var writer = new PartWriter(tmpPath, metadata, rowGroupRows);
            writer.Append(sortedRows);
            return writer.Finish();
        }
        catch
        {
            AtomicFile.DeleteQuietly(tmpPath);
            throw;
        }
    }

    private void CheckOrder(MetricRows rows)
    {
        if (!rows.IsSorted())
            throw new InvalidOperationException("Rows must be sorted by (sensor_id, ts) before they are written.");
        if (_lastSensorId is not null && MetricRows.CompareKeys(_lastSensorId, _lastTs, rows.SensorIds[0], rows.TsMicros[0]) > 0)
            throw new InvalidOperationException("Rows appended to a part must sort after the rows already in it.");
        _lastSensorId = rows.SensorIds[^1];
        _lastTs = rows.TsMicros[^1];
    }

    /// <summary>
    /// The first-group buffers (6 MB each at the aligned size), kept for the next part instead of
    /// allocated for each: as many as parts are written at once (<see cref="WriteLimiter"/>), no more.
    /// </summary>
    private static class Samples
    {
        private static readonly Stack<MetricRows> Kept = new();

        public static MetricRows Rent(int rows)
        {
            lock (Kept)
                if (Kept.TryPop(out var kept) && kept.Capacity >= rows) return kept;
            return new MetricRows(rows);
        }

        public static void Return(MetricRows sample)
        {
            sample.Clear();
            lock (Kept)
                if (Kept.Count < WriteLimiter.DefaultSlots) Kept.Push(sample);
        }
    }

    /// <summary>An open buffered row group and its column writers, which take rows batch by batch.</summary>
    private sealed class Group : IDisposable
    {
        private readonly RowGroupWriter _rowGroup;
        private readonly LogicalColumnWriter<string> _ids;
        private readonly ColumnWriter<long> _ts;
        private readonly ColumnWriter<double> _values;
        private readonly LogicalColumnWriter<int?> _quality;
        private readonly LogicalColumnWriter<int?> _samples;
        private readonly LogicalColumnWriter<string?> _source;

        public Group(RowGroupWriter rowGroup)
        {
            _rowGroup = rowGroup;
            _ids = rowGroup.Column(0).LogicalWriter<string>();
            _ts = (ColumnWriter<long>)rowGroup.Column(1);
            _values = (ColumnWriter<double>)rowGroup.Column(2);
            _quality = rowGroup.Column(3).LogicalWriter<int?>();
            _samples = rowGroup.Column(4).LogicalWriter<int?>();
            _source = rowGroup.Column(5).LogicalWriter<string?>();
        }

        public long Rows { get; private set; }
        public string? LastSensorId { get; private set; }
        public long CompressedBytes => _rowGroup.TotalCompressedBytes;

        public void Write(MetricRows rows, int start, int count)
        {
            _ids.WriteBatch(rows.SensorIds.Slice(start, count));
            _ts.WriteBatch(rows.TsMicros.Slice(start, count));
            _values.WriteBatch(rows.Values.Slice(start, count));
            _quality.WriteBatch(rows.Quality.Slice(start, count));
            _samples.WriteBatch(rows.Samples.Slice(start, count));
            _source.WriteBatch(rows.Source.Slice(start, count));
            Rows += count;
            LastSensorId = rows.SensorIds[start + count - 1];
        }

        /// <summary>Closes the row group: its pages reach the file.</summary>
        public void Dispose()
        {
            _ids.Dispose();
            _ts.Dispose();
            _values.Dispose();
            _quality.Dispose();
            _samples.Dispose();
            _source.Dispose();
            _rowGroup.Close();
            _rowGroup.Dispose();
        }
    }
}
