using AkkaLake.Core.Layout;
using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Replication;

/// <summary>Rows of one chunk split by shard-day, plus rows dropped because their date has no place in the lake.</summary>
public sealed record RoutedRows(IReadOnlyDictionary<ShardDay, MetricRows> ByShardDay, long TooOld, IReadOnlyDictionary<ShardDay, string> Locations);

/// <summary>Splits chunks by (UTC date of ts, xxh3 shard of sensor_id). Shards are cached per sensor.</summary>
public sealed class RowRouter(int shards, Func<DateOnly, string?> locationFor)
{
    private const int MaxCachedSensors = 100_000;
    private readonly Dictionary<string, int> _shardOf = new(StringComparer.Ordinal);
    private readonly Dictionary<DateOnly, string?> _locationOf = [];

    public RoutedRows Route(MetricRows rows)
    {
        var byShardDay = new Dictionary<ShardDay, MetricRows>();
        var locations = new Dictionary<ShardDay, string>();
        long tooOld = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var date = LakeLayout.DateOf(rows.TsMicros[i]);
            if (!_locationOf.TryGetValue(date, out var location))
                _locationOf[date] = location = locationFor(date);
            if (location is null)
            {
                tooOld++;
                continue;
            }
            var key = new ShardDay(date, ShardOf(rows.SensorIds[i]));
            if (!byShardDay.TryGetValue(key, out var target))
            {
                byShardDay[key] = target = new MetricRows(Math.Max(16, rows.Count / shards));
                locations[key] = location;
            }
            target.AddFrom(rows, i);
        }
        return new RoutedRows(byShardDay, tooOld, locations);
    }

    private int ShardOf(string sensorId)
    {
        if (_shardOf.TryGetValue(sensorId, out var shard)) return shard;
        // A cache, not a registry: with millions of distinct sensors it starts over instead of growing.
        if (_shardOf.Count >= MaxCachedSensors) _shardOf.Clear();
        return _shardOf[sensorId] = ShardHasher.Shard(sensorId, shards);
    }
}
