using System.Buffers;

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
    private bool _pooled;

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

    private MetricRows(int capacity, bool pooled)
    {
        _pooled = pooled;
        _sensorIds = ArrayPool<string>.Shared.Rent(capacity);
        _tsMicros = ArrayPool<long>.Shared.Rent(capacity);
        _values = ArrayPool<double>.Shared.Rent(capacity);
        _quality = ArrayPool<int?>.Shared.Rent(capacity);
        _samples = ArrayPool<int?>.Shared.Rent(capacity);
        _source = ArrayPool<string?>.Shared.Rent(capacity);
    }

    /// <summary>
    /// Gives the arrays of a buffer from <see cref="Sorted"/> with <c>pooled: true</c> back to the
    /// pool; the buffer is empty afterwards. Does nothing for other buffers.
    /// </summary>
    public void ReturnToPool()
    {
        if (!_pooled) return;
        _pooled = false;
        ArrayPool<string>.Shared.Return(_sensorIds, clearArray: true);
        ArrayPool<long>.Shared.Return(_tsMicros);
        ArrayPool<double>.Shared.Return(_values);
        ArrayPool<int?>.Shared.Return(_quality);
        ArrayPool<int?>.Shared.Return(_samples);
        ArrayPool<string?>.Shared.Return(_source, clearArray: true);
        (_sensorIds, _tsMicros, _values, _quality, _samples, _source) = ([], [], [], [], [], []);
        Count = 0;
    }

    public int Count { get; private set; }

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

    /// <summary>Removes the first <paramref name="count"/> rows, moving the rest to the front.</summary>
    public void RemoveFirst(int count)
    {
        var rest = Count - count;
        Array.Copy(_sensorIds, count, _sensorIds, 0, rest);
        Array.Copy(_tsMicros, count, _tsMicros, 0, rest);
        Array.Copy(_values, count, _values, 0, rest);
        Array.Copy(_quality, count, _quality, 0, rest);
        Array.Copy(_samples, count, _samples, 0, rest);
        Array.Copy(_source, count, _source, 0, rest);
        Array.Clear(_sensorIds, rest, count);
        Array.Clear(_source, rest, count);
        Count = rest;
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

    /// <summary>
    /// The rows of all these buffers in one new buffer sorted by (sensor_id in UTF-8 byte order,
    /// ts), gathered straight from the buffers (no joined copy first). Rows come from PostgreSQL
    /// mostly in ts order and a shard-day holds few sensors, so this ranks the distinct ids once,
    /// places rows by a stable counting sort on that rank, and sorts a sensor's run by ts only when
    /// it is not in order. With <paramref name="pooled"/> the result's arrays come from the shared
    /// pool (a part's sorted copy lives only while it is written, and would otherwise be a fresh
    /// large-object allocation each time); the caller gives them back with <see cref="ReturnToPool"/>.
    /// </summary>
    public static MetricRows Sorted(IReadOnlyList<MetricRows> buffers, bool pooled = false)
    {
        if (buffers.Count == 1 && buffers[0].IsSorted()) return buffers[0];
        var parts = buffers.ToArray();
        var total = parts.Sum(p => p.Count);
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in parts)
            foreach (var id in part.SensorIds) rankOf.TryAdd(id, 0);
        var ids = rankOf.Keys.ToArray();
        Array.Sort(ids, Utf8Order.Instance);
        for (var r = 0; r < ids.Length; r++) rankOf[ids[r]] = r;

        // A row's place is (buffer << 32 | index in it).
        var ranks = ArrayPool<int>.Shared.Rent(total);
        var starts = new int[ids.Length + 1];
        var g = 0;
        foreach (var part in parts)
            foreach (var id in part.SensorIds)
                starts[(ranks[g++] = rankOf[id]) + 1]++;
        for (var r = 0; r < ids.Length; r++) starts[r + 1] += starts[r];
        var order = ArrayPool<long>.Shared.Rent(total);
        var next = (int[])starts.Clone();
        g = 0;
        for (var p = 0; p < parts.Length; p++)
            for (var i = 0; i < parts[p].Count; i++)
                order[next[ranks[g++]]++] = (long)p << 32 | (uint)i;

        for (var r = 0; r < ids.Length; r++)
        {
            var run = order.AsSpan(starts[r], starts[r + 1] - starts[r]);
            if (!RunIsSorted(run, parts))
            {
                var keys = new long[run.Length];
                for (var k = 0; k < run.Length; k++) keys[k] = TsAt(parts, run[k]);
                keys.AsSpan().Sort(run);
            }
        }

        ArrayPool<int>.Shared.Return(ranks);
        var sorted = pooled ? new MetricRows(total, pooled: true) : new MetricRows(total);
        sorted.Count = total;
        for (var i = 0; i < total; i++)
        {
            var from = parts[(int)(order[i] >> 32)];
            var at = (int)order[i];
            sorted._sensorIds[i] = from._sensorIds[at];
            sorted._tsMicros[i] = from._tsMicros[at];
            sorted._values[i] = from._values[at];
            sorted._quality[i] = from._quality[at];
            sorted._samples[i] = from._samples[at];
            sorted._source[i] = from._source[at];
        }
        ArrayPool<long>.Shared.Return(order);
        return sorted;
    }

    private static long TsAt(MetricRows[] parts, long place) => parts[(int)(place >> 32)]._tsMicros[(int)place];

    private static bool RunIsSorted(ReadOnlySpan<long> run, MetricRows[] parts)
    {
        for (var k = 1; k < run.Length; k++)
            if (TsAt(parts, run[k - 1]) > TsAt(parts, run[k])) return false;
        return true;
    }

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
