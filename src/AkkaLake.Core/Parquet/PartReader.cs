using ParquetSharp;

namespace AkkaLake.Core.Parquet;

/// <summary>Reads part files back, a row group at a time, and their footer metadata.</summary>
public sealed class PartReader : IDisposable
{
    private readonly ParquetFileReader _reader;

    public PartReader(string path)
    {
        Path = path;
        using var properties = ReaderProperties.WithMemoryPool(PartFormat.NativeMemory);
        // Page CRCs turn a flipped bit on disk into an error instead of a wrong reading.
        properties.EnablePageChecksumVerification();
        _reader = new ParquetFileReader(path, properties);
        CheckSchema();
    }

    public string Path { get; }
    public int RowGroupCount => _reader.FileMetaData.NumRowGroups;
    public long RowCount => _reader.FileMetaData.NumRows;
    public PartMetadata? Metadata => PartMetadata.FromKeyValues(_reader.FileMetaData.KeyValueMetadata);
    public SensorRanges? SensorRanges => SensorRanges.Decode(_reader.FileMetaData.KeyValueMetadata);

    public MetricRows ReadRowGroup(int index)
    {
        try
        {
            return ReadRowGroupUnchecked(index);
        }
        catch (ArgumentException e)
        {
            // ParquetSharp's word for a column holding fewer values than its row group says.
            throw new InvalidDataException($"{Path}: row group {index} is damaged ({e.Message}).", e);
        }
    }

    private MetricRows ReadRowGroupUnchecked(int index)
    {
        using var rowGroup = _reader.RowGroup(index);
        var n = checked((int)rowGroup.MetaData.NumRows);
        string[] ids;
        using (var r = rowGroup.Column(0).LogicalReader<string>()) ids = r.ReadAll(n);
        var ts = ReadRequired<long>(rowGroup.Column(1), n);
        var values = ReadRequired<double>(rowGroup.Column(2), n);
        int?[] quality, samples;
        string?[] source;
        using (var r = rowGroup.Column(3).LogicalReader<int?>()) quality = r.ReadAll(n);
        using (var r = rowGroup.Column(4).LogicalReader<int?>()) samples = r.ReadAll(n);
        using (var r = rowGroup.Column(5).LogicalReader<string?>()) source = r.ReadAll(n);

        var rows = new MetricRows(n);
        for (var i = 0; i < n; i++)
            rows.Add(ids[i], ts[i], values[i], quality[i], samples[i], source[i]);
        return rows;
    }

    /// <summary>Rows in batches of at most <paramref name="batchRows"/>, so a reader's memory does not grow with the file.</summary>
    public IEnumerable<MetricRows> ReadBatches(int batchRows)
    {
        for (var g = 0; g < RowGroupCount; g++)
        {
            using var rowGroup = _reader.RowGroup(g);
            var n = rowGroup.MetaData.NumRows;
            using var ids = rowGroup.Column(0).LogicalReader<string>();
            using var ts = (ColumnReader<long>)rowGroup.Column(1);
            using var values = (ColumnReader<double>)rowGroup.Column(2);
            using var quality = rowGroup.Column(3).LogicalReader<int?>();
            using var samples = rowGroup.Column(4).LogicalReader<int?>();
            using var source = rowGroup.Column(5).LogicalReader<string?>();
            var idBuffer = new string[batchRows];
            var tsBuffer = new long[batchRows];
            var valueBuffer = new double[batchRows];
            var qualityBuffer = new int?[batchRows];
            var samplesBuffer = new int?[batchRows];
            var sourceBuffer = new string?[batchRows];
            for (long done = 0; done < n;)
            {
                var k = (int)Math.Min(batchRows, n - done);
                ReadExactly(ids, idBuffer.AsSpan(0, k));
                ReadExactly(ts, tsBuffer.AsSpan(0, k));
                ReadExactly(values, valueBuffer.AsSpan(0, k));
                ReadExactly(quality, qualityBuffer.AsSpan(0, k));
                ReadExactly(samples, samplesBuffer.AsSpan(0, k));
                ReadExactly(source, sourceBuffer.AsSpan(0, k));
                var rows = new MetricRows(k);
                for (var i = 0; i < k; i++)
                    rows.Add(idBuffer[i], tsBuffer[i], valueBuffer[i], qualityBuffer[i], samplesBuffer[i], sourceBuffer[i]);
                done += k;
                yield return rows;
            }
        }
    }

    private static void ReadExactly<T>(LogicalColumnReader<T> reader, Span<T> into)
    {
        var read = 0;
        while (read < into.Length)
        {
            var got = reader.ReadBatch(into[read..]);
            if (got == 0) throw new InvalidDataException("A column ended before its row group did.");
            read += got;
        }
    }

    private static void ReadExactly<T>(ColumnReader<T> reader, Span<T> into) where T : unmanaged
    {
        var read = 0;
        while (read < into.Length)
        {
            reader.ReadBatch(into.Length - read, into[read..], out var got);
            if (got == 0) throw new InvalidDataException("A column ended before its row group did.");
            read += (int)got;
        }
    }

    public IEnumerable<MetricRows> ReadRowGroups()
    {
        for (var i = 0; i < RowGroupCount; i++)
            yield return ReadRowGroup(i);
    }

    public MetricRows ReadAll()
    {
        var all = new MetricRows(checked((int)Math.Max(RowCount, 1)));
        foreach (var group in ReadRowGroups())
            for (var i = 0; i < group.Count; i++)
                all.AddFrom(group, i);
        return all;
    }

    public void Dispose() => _reader.Dispose();

    private static T[] ReadRequired<T>(ColumnReader column, int n) where T : unmanaged
    {
        using var reader = (ColumnReader<T>)column;
        var values = new T[n];
        var read = 0;
        while (read < n && reader.HasNext)
        {
            reader.ReadBatch(n - read, values.AsSpan(read), out var got);
            read += (int)got;
        }
        if (read != n)
            throw new InvalidDataException($"Expected {n} values, read {read}.");
        return values;
    }

    /// <summary>How the file's column types differ from the lake's schema; null when they do not.</summary>
    public string? SchemaDifference()
    {
        using var expected = PartFormat.CreateSchema();
        var schema = _reader.FileMetaData.Schema;
        for (var i = 0; i < schema.NumColumns; i++)
        {
            var actual = schema.Column(i);
            var want = (ParquetSharp.Schema.PrimitiveNode)expected.Fields[i];
            using var actualType = actual.LogicalType;
            using var wantType = want.LogicalType;
            if (actual.PhysicalType != want.PhysicalType || !actualType.Equals(wantType))
                return $"column {actual.Name} is {actualType} ({actual.PhysicalType}); the lake's is {wantType} ({want.PhysicalType})";
        }
        return null;
    }

    private void CheckSchema()
    {
        var schema = _reader.FileMetaData.Schema;
        var names = Enumerable.Range(0, schema.NumColumns).Select(i => schema.Column(i).Name).ToArray();
        if (!names.SequenceEqual(PartFormat.ColumnNames))
            throw new InvalidDataException(
                $"{Path} is not an AkkaLake part: columns are [{string.Join(", ", names)}], expected [{string.Join(", ", PartFormat.ColumnNames)}].");
        // What the readers below cast to: the physical types, and text annotated as text. A ts
        // annotation of an older version of the format still reads as microseconds.
        using var expected = PartFormat.CreateSchema();
        for (var i = 0; i < schema.NumColumns; i++)
        {
            var actual = schema.Column(i);
            var want = (ParquetSharp.Schema.PrimitiveNode)expected.Fields[i];
            using var actualType = actual.LogicalType;
            if (actual.PhysicalType != want.PhysicalType || (want.PhysicalType == PhysicalType.ByteArray && actualType is not StringLogicalType))
                throw new InvalidDataException($"{Path} is not an AkkaLake part: column {actual.Name} is {actualType} ({actual.PhysicalType}).");
        }
    }
}
