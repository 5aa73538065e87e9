using AkkaLake.Core.Layout;
using AkkaLake.Core.Source;

namespace AkkaLake.Core.Reconciliation;

/// <summary>One shard-day whose rows differ between PostgreSQL and the lake.</summary>
public sealed record ShardDifference(int Shard, long SourceRows, long LakeRows, int SensorsDiffering, string ExampleSensor);

/// <summary>What one day's check found; <see cref="Shards"/> is empty when the lake holds exactly PostgreSQL's rows.</summary>
public sealed record DayCheck(DateOnly Day, long SourceRows, long LakeRows, IReadOnlyList<ShardDifference> Shards)
{
    public bool Differs => Shards.Count > 0;
}

/// <summary>Compares per-sensor digests of one day, PostgreSQL's against the lake's, shard by shard.</summary>
public static class DayComparison
{
    /// <param name="source">PostgreSQL's digests by sensor_id (rows the lake cannot hold are left out here).</param>
    /// <param name="lake">The lake's digests by sensor_id.</param>
    public static DayCheck Compare(DateOnly day, IReadOnlyDictionary<string, SensorDigest> source, IReadOnlyDictionary<string, SensorDigest> lake, int shards)
    {
        var holdable = source.Where(kv => RowRules.SensorIdProblem(kv.Key) is null).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var differing = holdable.Keys.Union(lake.Keys, StringComparer.Ordinal)
            .Where(id => holdable.GetValueOrDefault(id) != lake.GetValueOrDefault(id))
            .GroupBy(id => ShardHasher.Shard(id, shards))
            .OrderBy(g => g.Key)
            .Select(g => new ShardDifference(
                g.Key,
                holdable.Where(kv => ShardHasher.Shard(kv.Key, shards) == g.Key).Sum(kv => kv.Value.Rows),
                lake.Where(kv => ShardHasher.Shard(kv.Key, shards) == g.Key).Sum(kv => kv.Value.Rows),
                g.Count(),
                g.OrderBy(id => id, StringComparer.Ordinal).First()))
            .ToList();
        return new DayCheck(day, holdable.Values.Sum(d => d.Rows), lake.Values.Sum(d => d.Rows), differing);
    }
}
