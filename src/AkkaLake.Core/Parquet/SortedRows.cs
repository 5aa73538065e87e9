namespace AkkaLake.Core.Parquet;

/// <summary>
/// The rows of several buffers in (sensor_id in UTF-8 byte order, ts) order, without copying
/// them: a permutation (8 bytes a row) that is gathered a batch at a time. Rows come from
/// PostgreSQL mostly in ts order and a shard-day holds few sensors, so this ranks the distinct ids
/// once, places rows by a stable counting sort on that rank, and sorts a sensor's run by ts only
/// when it is not in order. The buffers must not change while it is used.
/// </summary>
public sealed class SortedRows
{
    private readonly MetricRows[] _parts;
    // A row's place is (buffer << 32 | index in it).
    private readonly long[] _order;

    private SortedRows(MetricRows[] parts, long[] order)
    {
        _parts = parts;
        _order = order;
    }

    public int Count => _order.Length;

    public static SortedRows Of(IReadOnlyList<MetricRows> buffers)
    {
        var parts = buffers.ToArray();
        var total = parts.Sum(p => p.Count);
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in parts)
            foreach (var id in part.SensorIds) rankOf.TryAdd(id, 0);
        var ids = rankOf.Keys.ToArray();
        Array.Sort(ids, Utf8Order.Instance);
        for (var r = 0; r < ids.Length; r++) rankOf[ids[r]] = r;

        var ranks = new int[total];
        var starts = new int[ids.Length + 1];
        var g = 0;
        foreach (var part in parts)
            foreach (var id in part.SensorIds)
                starts[(ranks[g++] = rankOf[id]) + 1]++;
        for (var r = 0; r < ids.Length; r++) starts[r + 1] += starts[r];
        var order = GC.AllocateUninitializedArray<long>(total);
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
        return new SortedRows(parts, order);
    }

    /// <summary>Appends the sorted rows [start, start + count) to <paramref name="target"/>.</summary>
    public void GatherInto(MetricRows target, int start, int count) => target.Gather(_parts, _order.AsSpan(start, count));

    /// <summary>The sorted rows in batches of at most <paramref name="batchRows"/>, gathered into one buffer reused from batch to batch.</summary>
    public IEnumerable<MetricRows> Batches(int batchRows)
    {
        var batch = new MetricRows(Math.Min(batchRows, Count));
        for (var start = 0; start < Count; start += batchRows)
        {
            batch.Clear();
            GatherInto(batch, start, Math.Min(batchRows, Count - start));
            yield return batch;
        }
    }

    private static long TsAt(MetricRows[] parts, long place) => parts[(int)(place >> 32)].TsAt((int)place);

    private static bool RunIsSorted(ReadOnlySpan<long> run, MetricRows[] parts)
    {
        for (var k = 1; k < run.Length; k++)
            if (TsAt(parts, run[k - 1]) > TsAt(parts, run[k])) return false;
        return true;
    }
}
