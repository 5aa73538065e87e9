using AkkaLake.Core.Storage;
using ParquetSharp;
using ParquetSharp.IO;

namespace AkkaLake.Core.Parquet;

/// <summary>What a finished part file holds; recorded in the manifest when it is committed.</summary>
/// <param name="Xxh3">Checksum of the whole file, so verify can tell a file changed on disk from the one committed.</param>
public sealed record WrittenPart(string TmpPath, long Rows, long Bytes, long MinTsMicros, long MaxTsMicros, string? Xxh3 = null);

/// <summary>
/// Writes sorted rows to a new <c>.tmp</c> part file, flushed to disk. Publishing it (the rename)
/// is the commit's job, not the writer's. Rows may be added in chunks of any size: row groups are
/// cut by <see cref="RowGroupEnd"/> whatever the chunks were, holding back at most one unfinished
/// group, so a writer never needs all of a file's rows in memory.
/// </summary>
public sealed class PartWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly ManagedOutputStream _output;
    private readonly PartEncoding _encoding;
    // Opened with the first row group, whose ts decide their encoding.
    private ParquetFileWriter? _writer;
    private readonly int _rowGroupRows;
    private readonly Dictionary<string, string> _keyValues;
    private SensorRanges? _sensorRanges = new();
    private string? _lastSensorId;
    private long _lastTs;
    private long _rows;
    private long _minTs = long.MaxValue;
    private long _maxTs = long.MinValue;
    private bool _closed;
    // The rows of a group not yet complete: it ends at a sensor boundary the next chunk may bring.
    private MetricRows? _unfinished;

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

    private ParquetFileWriter Open(ReadOnlySpan<long> firstTs)
    {
        using var schema = PartFormat.CreateSchema();
        using var properties = PartFormat.CreateWriterProperties(_rowGroupRows, _encoding, _encoding.DictionaryFor(firstTs));
        return _writer = new ParquetFileWriter(_output, schema, properties, _keyValues);
    }

    public string TmpPath { get; }

    /// <summary>Bytes written so far (row groups are written whole), to roll output files at a size target.</summary>
    public long BytesWritten => _stream.Position;

    /// <summary>Appends rows that are sorted and sort after everything already written.</summary>
    public void Append(MetricRows rows) => Append(rows, last: false);

    /// <summary>Appends the last rows of the part: every group is written now, none held back (nor copied).</summary>
    public void AppendLast(MetricRows rows) => Append(rows, last: true);

    private void Append(MetricRows rows, bool last)
    {
        if (rows.Count == 0) return;
        CheckOrder(rows);
        if (_unfinished is not { Count: > 0 } unfinished)
        {
            var tail = WriteGroups(rows, onlyComplete: !last);
            if (tail == rows.Count) return;
            _unfinished ??= new MetricRows(PartFormat.SensorAlignedRowGroupRows);
            _unfinished.AddRange(rows, tail, rows.Count - tail);
            return;
        }
        unfinished.AddRange(rows, 0, rows.Count);
        unfinished.RemoveFirst(WriteGroups(unfinished, onlyComplete: !last));
    }

    /// <summary>Writes the row groups of <paramref name="rows"/>; returns where the rows not written begin.</summary>
    private int WriteGroups(MetricRows rows, bool onlyComplete)
    {
        var start = 0;
        while (start < rows.Count)
        {
            var end = RowGroupEnd(rows.SensorIds, start, _rowGroupRows);
            // A group cut by the end of the rows at hand may go on in the next chunk.
            if (onlyComplete && end == rows.Count && end - start < _rowGroupRows) break;
            WriteRowGroup(rows, start, end - start);
            start = end;
        }
        return start;
    }

    /// <summary>
    /// Where the row group starting at <paramref name="start"/> ends: at the first sensor boundary
    /// once it holds <see cref="PartFormat.SensorAlignedRowGroupRows"/> rows, or at
    /// <paramref name="maxRows"/>. Groups that end between sensors give each group a narrow
    /// min/max of sensor_id, so a reader asking for a few sensors skips the others' groups.
    /// </summary>
    public static int RowGroupEnd(ReadOnlySpan<string> sensorIds, int start, int maxRows)
    {
        var limit = Math.Min(sensorIds.Length, start + maxRows);
        var end = start + PartFormat.SensorAlignedRowGroupRows;
        if (end >= limit) return limit;
        while (end < limit && string.Equals(sensorIds[end], sensorIds[end - 1], StringComparison.Ordinal)) end++;
        return end;
    }

    public WrittenPart Finish()
    {
        if (_unfinished is { Count: > 0 } unfinished) WriteGroups(unfinished, onlyComplete: false);
        if (_sensorRanges is { } ranges && _rows >= SensorRanges.MinRows) _keyValues[SensorRanges.Key] = ranges.Encode();
        (_writer ?? Open([])).Close();
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
        if (!_closed)
        {
            try { _writer?.Close(); } catch (Exception e) when (e is ParquetException or IOException) { }
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
            writer.AppendLast(sortedRows);
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

    private void WriteRowGroup(MetricRows rows, int start, int count)
    {
        using var rowGroup = (_writer ?? Open(rows.TsMicros.Slice(start, count))).AppendRowGroup();
        using (var w = rowGroup.NextColumn().LogicalWriter<string>())
            w.WriteBatch(rows.SensorIds.Slice(start, count));
        var ts = rows.TsMicros.Slice(start, count);
        using (var w = (ColumnWriter<long>)rowGroup.NextColumn())
            w.WriteBatch(ts);
        using (var w = (ColumnWriter<double>)rowGroup.NextColumn())
            w.WriteBatch(rows.Values.Slice(start, count));
        using (var w = rowGroup.NextColumn().LogicalWriter<int?>())
            w.WriteBatch(rows.Quality.Slice(start, count));
        using (var w = rowGroup.NextColumn().LogicalWriter<int?>())
            w.WriteBatch(rows.Samples.Slice(start, count));
        using (var w = rowGroup.NextColumn().LogicalWriter<string?>())
            w.WriteBatch(rows.Source.Slice(start, count));

        foreach (var t in ts)
        {
            if (t < _minTs) _minTs = t;
            if (t > _maxTs) _maxTs = t;
        }
        if (_sensorRanges is { } ranges && !ranges.Add(rows.SensorIds.Slice(start, count), ts)) _sensorRanges = null;
        _rows += count;
    }
}
