using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Compaction;

/// <summary>
/// How far the lake is from the shape compaction brings it to: the shard-days holding more
/// files than their budget (a finished day's rest count, today's file budget) that compaction
/// will merge, how many files over their final count they hold, and the bytes it will rewrite.
/// The controller lists every file of a shard-day it reads, so this is what slows its reads.
/// </summary>
/// <param name="Files">Committed files in the lake.</param>
/// <param name="FinalFiles">The files the lake holds once compaction has caught up.</param>
public sealed record CompactionBacklog(int ShardDays, int ExcessFiles, long BytesToRewrite, int Files, int FinalFiles)
{
    /// <summary>Past twice the final count the controller's reads are markedly slower (measured: 4-13 x at 22 files per shard-day).</summary>
    public bool SlowsReads => Files > 2 * FinalFiles;

    /// <summary>At a merge rate in bytes per second; null when the rate is not known yet.</summary>
    public TimeSpan? TimeToClear(double? bytesPerSecond) =>
        ShardDays == 0 ? TimeSpan.Zero : bytesPerSecond is > 0 ? TimeSpan.FromSeconds(BytesToRewrite / bytesPerSecond.Value) : null;

    public static CompactionBacklog Of(LakeManifest manifest, DateTimeOffset now, CompactionPolicy policy)
    {
        int shardDays = 0, excess = 0, files = 0, final = 0;
        long bytes = 0;
        foreach (var (dateKey, partition) in manifest.Metrics.Partitions)
        {
            var date = LakeLayout.ParseDateKey(dateKey);
            foreach (var (shardKey, shard) in partition.Shards)
            {
                var count = shard.Files.Count;
                var after = FinalCount(date, shardKey, partition.Location, shard, now, policy);
                files += count;
                final += after;
                if (after == count) continue;
                shardDays++;
                excess += count - after;
                bytes += shard.Files.Sum(f => f.Bytes);
            }
        }
        return new CompactionBacklog(shardDays, excess, bytes, files, final);
    }

    /// <summary>The files a shard-day holds once compaction has caught up: what it holds now unless compaction will merge it.</summary>
    public static int FinalCount(DateOnly date, string shardKey, LakeLocation location, ShardState shard, DateTimeOffset now, CompactionPolicy policy)
    {
        var count = shard.Files.Count;
        var finished = policy.IsFinished(date, now);
        var budget = finished ? policy.RestFiles : policy.MaxFiles;
        var merges = count > budget && !shard.Files.Any(f => f.IsFirstImplementation) &&
            CompactionPlanner.PlanShardDay(date, LakeLayout.ParseShardKey(shardKey), location, shard.Files, now, policy) is not null;
        if (!merges) return count;
        var shardBytes = shard.Files.Sum(f => f.Bytes);
        return finished ? (int)Math.Max(1, (shardBytes + policy.TargetFileBytes - 1) / policy.TargetFileBytes) : policy.MaxFiles;
    }
}
