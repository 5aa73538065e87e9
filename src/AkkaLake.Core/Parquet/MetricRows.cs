namespace AkkaLake.Core.Parquet;

/// <summary>
/// A growable column-wise buffer of metric rows: the unit that travels through the pipeline and
/// into a part file. Column-wise keeps memory at about 50 bytes a row and feeds Parquet directly.
/// </summary>
public sealed class MetricRows
{
    private string[] _sensorIds;
    private long[] _tsMicros;
    private double[] _values;
    private int?[] _quality;
    private int?[] _samples;
    private string?[] _source;

    public MetricRows(int capacity = 1024)
    {
        capacity = Math.Max(capacity, 4);
        _sensorIds = new string[capacity];
        _tsMicros = new long[capacity];
        _values = new double[capacity];
        _quality = new int?[capacity];
        _samples = new int?[capacity];
        _source = new string?[capacity];
    }

    public int Count { get; private set; }

    /// <summary>Rows it holds before it must grow.</summary>
    public int Capacity => _sensorIds.Length;

    public ReadOnlySpan<string> SensorIds => _sensorIds.AsSpan(0, Count);
    public ReadOnlySpan<long> TsMicros => _tsMicros.AsSpan(0, Count);
    public ReadOnlySpan<double> Values => _values.AsSpan(0, Count);
    public ReadOnlySpan<int?> Quality => _quality.AsSpan(0, Count);
    public ReadOnlySpan<int?> Samples => _samples.AsSpan(0, Count);
    public ReadOnlySpan<string?> Source => _source.AsSpan(0, Count);

    public MetricRow this[int i] => new(_sensorIds[i], _tsMicros[i], _values[i], _quality[i], _samples[i], _source[i]);

    public void Add(string sensorId, long tsMicros, double value, int? quality, int? samples, string? source)
    {
        if (Count == _sensorIds.Length) Grow();
        var i = Count++;
        _sensorIds[i] = sensorId;
        _tsMicros[i] = tsMicros;
        _values[i] = value;
        _quality[i] = quality;
        _samples[i] = samples;
        _source[i] = source;
    }

    /// <summary>Empties the buffer for reuse, keeping its arrays.</summary>
    public void Clear()
    {
        Array.Clear(_sensorIds, 0, Count);
        Array.Clear(_source, 0, Count);
        Count = 0;
    }

    /// <summary>Appends rows [start, start + count) of another buffer, a column at a time.</summary>
    public void AddRange(MetricRows other, int start, int count)
    {
        while (Count + count > _sensorIds.Length) Grow();
        Array.Copy(other._sensorIds, start, _sensorIds, Count, count);
        Array.Copy(other._tsMicros, start, _tsMicros, Count, count);
        Array.Copy(other._values, start, _values, Count, count);
        Array.Copy(other._quality, start, _quality, Count, count);
        Array.Copy(other._samples, start, _samples, Count, count);
        Array.Copy(other._source, start, _source, Count, count);
        Count += count;
    }

    public void AddFrom(MetricRows other, int index) =>
        Add(other._sensorIds[index], other._tsMicros[index], other._values[index], other._quality[index], other._samples[index], other._source[index]);

    /// <summary>Sorts by (sensor_id in UTF-8 byte order, ts); see <see cref="Sorted"/>.</summary>
    public void Sort()
    {
        var sorted = Sorted([this]);
        if (ReferenceEquals(sorted, this)) return;
        (_sensorIds, _tsMicros, _values, _quality, _samples, _source) = (sorted._sensorIds, sorted._tsMicros, sorted._values, sorted._quality, sorted._samples, sorted._source);
    }

    /// <summary>The rows of all these buffers in one new buffer sorted by (sensor_id in UTF-8 byte order, ts) (see <see cref="SortedRows"/>).</summary>
    public static MetricRows Sorted(IReadOnlyList<MetricRows> buffers)
    {
        if (buffers.Count == 1 && buffers[0].IsSorted()) return buffers[0];
        var order = SortedRows.Of(buffers);
        var sorted = new MetricRows(order.Count);
        order.GatherInto(sorted, 0, order.Count);
        return sorted;
    }

    /// <summary>Appends rows of <paramref name="parts"/> at the places <paramref name="order"/> names (buffer &lt;&lt; 32 | index).</summary>
    internal void Gather(MetricRows[] parts, ReadOnlySpan<long> order)
    {
        while (Count + order.Length > _sensorIds.Length) Grow();
        foreach (var place in order)
        {
            var from = parts[(int)(place >> 32)];
            var at = (int)place;
            var i = Count++;
            _sensorIds[i] = from._sensorIds[at];
            _tsMicros[i] = from._tsMicros[at];
            _values[i] = from._values[at];
            _quality[i] = from._quality[at];
            _samples[i] = from._samples[at];
            _source[i] = from._source[at];
        }
    }

    internal long TsAt(int index) => _tsMicros[index];

    public bool IsSorted()
    {
        for (var i = 1; i < Count; i++)
            if (CompareKeys(_sensorIds[i - 1], _tsMicros[i - 1], _sensorIds[i], _tsMicros[i]) > 0)
                return false;
        return true;
    }

    public static int CompareKeys(string idA, long tsA, string idB, long tsB)
    {
        var c = Utf8Order.Instance.Compare(idA, idB);
        return c != 0 ? c : tsA.CompareTo(tsB);
    }

    private void Grow()
    {
        var n = Math.Max(4, _sensorIds.Length * 2);
        Array.Resize(ref _sensorIds, n);
        Array.Resize(ref _tsMicros, n);
        Array.Resize(ref _values, n);
        Array.Resize(ref _quality, n);
        Array.Resize(ref _samples, n);
        Array.Resize(ref _source, n);
    }
}

public readonly record struct MetricRow(string SensorId, long TsMicros, double Value, int? Quality, int? Samples, string? Source);
