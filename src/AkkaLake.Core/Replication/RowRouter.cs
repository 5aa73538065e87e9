using AkkaLake.Core.Layout;
using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Replication;

/// <summary>
/// Rows of one chunk split by shard-day, each shard-day's in blocks of at most
/// <see cref="RowRouter.BlockRows"/>, plus rows dropped because their date has no place in the lake.
/// </summary>
public sealed record RoutedRows(IReadOnlyDictionary<ShardDay, IReadOnlyList<MetricRows>> ByShardDay, long TooOld, IReadOnlyDictionary<ShardDay, LakeLocation> Locations)
{
    public long Count => ByShardDay.Values.Sum(RowsIn);

    public static long RowsIn(IReadOnlyList<MetricRows> blocks) => blocks.Sum(b => (long)b.Count);
}

/// <summary>Splits chunks by (UTC date of ts, xxh3 shard of sensor_id). Shards are cached per sensor.</summary>
public sealed class RowRouter(int shards, Func<DateOnly, LakeLocation?> locationFor)
{
    /// <summary>
    /// Rows a routed block holds at most. Writers keep the blocks until they spill or flush; at 8
    /// bytes a row a column stays under the 85,000 bytes of the large object heap, so buffered rows
    /// live in the compacting heap instead of fragmenting the large one (one chunk of a table stored
    /// sensor by sensor goes to a few shard-days, tens of thousands of rows each).
    /// </summary>
    public const int BlockRows = 8_192;

    /// <summary>A router of its own for another thread: a router keeps caches and buffers, and is used by one thread at a time.</summary>
    public RowRouter Another() => new(shards, locationFor);

    private const int MaxCachedSensors = 100_000;
    private readonly Dictionary<string, int> _shardOf = new(StringComparer.Ordinal);
    private readonly Dictionary<DateOnly, LakeLocation?> _locationOf = [];
    // Reused from chunk to chunk: each is as large as a chunk.
    private int[] _slotOf = [];

    /// <summary>
    /// Two passes: the first finds each row's shard-day and counts them, the second copies rows
    /// into blocks sized from that count (the writers keep these blocks, so slack would be held
    /// until the part is written).
    /// </summary>
    public RoutedRows Route(MetricRows rows)
    {
        if (_slotOf.Length < rows.Count) _slotOf = new int[rows.Count];
        var slotOf = _slotOf;
        var keys = new List<ShardDay>();
        var counts = new List<int>();
        var locations = new Dictionary<ShardDay, LakeLocation>();
        var slotsByDate = new Dictionary<DateOnly, int[]>();
        long tooOld = 0;
        DateOnly? lastDate = null;
        LakeLocation? location = null;
        int[] slots = [];
        for (var i = 0; i < rows.Count; i++)
        {
            var date = LakeLayout.DateOf(rows.TsMicros[i]);
            if (date != lastDate)
            {
                lastDate = date;
                if (!_locationOf.TryGetValue(date, out location))
                    _locationOf[date] = location = locationFor(date);
                if (!slotsByDate.TryGetValue(date, out slots!))
                    slotsByDate[date] = slots = Enumerable.Repeat(-1, shards).ToArray();
            }
            if (location is null)
            {
                tooOld++;
                slotOf[i] = -1;
                continue;
            }
            var shard = ShardOf(rows.SensorIds[i]);
            if (slots[shard] < 0)
            {
                slots[shard] = keys.Count;
                var key = new ShardDay(date, shard);
                keys.Add(key);
                counts.Add(0);
                locations[key] = location.Value;
            }
            slotOf[i] = slots[shard];
            counts[slots[shard]]++;
        }

        var blocks = counts.Select(c => new List<MetricRows>((c + BlockRows - 1) / BlockRows)).ToArray();
        var open = new MetricRows?[keys.Count];
        var left = counts.ToArray();
        for (var i = 0; i < rows.Count; i++)
        {
            var slot = slotOf[i];
            if (slot < 0) continue;
            var block = open[slot];
            if (block is null || block.Count == block.Capacity)
            {
                blocks[slot].Add(block = open[slot] = new MetricRows(Math.Min(left[slot], BlockRows)));
                left[slot] -= block.Capacity;
            }
            block.AddFrom(rows, i);
        }
        return new RoutedRows(keys.Select((k, i) => (k, (IReadOnlyList<MetricRows>)blocks[i])).ToDictionary(p => p.k, p => p.Item2), tooOld, locations);
    }

    private int ShardOf(string sensorId)
    {
        if (_shardOf.TryGetValue(sensorId, out var shard)) return shard;
        // A cache, not a registry: with millions of distinct sensors it starts over instead of growing.
        if (_shardOf.Count >= MaxCachedSensors) _shardOf.Clear();
        return _shardOf[sensorId] = ShardHasher.Shard(sensorId, shards);
    }
}
