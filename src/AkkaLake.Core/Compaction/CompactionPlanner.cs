using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Compaction;

/// <summary>One merge: inputs (a contiguous run of the newest data versions of a shard-day) into files of one level.</summary>
public sealed record CompactionJob(DateOnly Date, int Shard, string Location, IReadOnlyList<PartFile> Inputs, int OutputLevel, string Reason)
{
    public long InputBytes => Inputs.Sum(f => f.Bytes);
    public long Version => Inputs.Max(f => f.Version > 0 ? f.Version : f.CommitSeq);
}

/// <summary>Decides which files to merge. Pure: the manifest in, jobs out.</summary>
public static class CompactionPlanner
{
    public static IReadOnlyList<CompactionJob> Plan(LakeManifest manifest, DateOnly today, CompactionPolicy policy)
    {
        var jobs = new List<CompactionJob>();
        foreach (var (dateKey, partition) in manifest.Metrics.Partitions)
        {
            var date = LakeLayout.ParseDateKey(dateKey);
            foreach (var (shardKey, shard) in partition.Shards)
                if (PlanShardDay(date, int.Parse(shardKey, System.Globalization.CultureInfo.InvariantCulture), partition.Location, shard.Files, today, policy) is { } job)
                    jobs.Add(job);
        }
        return jobs;
    }

    public static CompactionJob? PlanShardDay(DateOnly date, int shard, string location, IReadOnlyList<PartFile> files, DateOnly today, CompactionPolicy policy)
    {
        var ordered = files.OrderBy(Order).ToList();
        if (date < today && ordered.Count > policy.RestFiles)
            return new CompactionJob(date, shard, location, ordered, PartFile.FinalLevel, "finished day");

        // The newest files, if FanIn of them share a level below final, merge one level up.
        if (ordered.Count < policy.FanIn) return null;
        var level = ordered[^1].Level;
        if (level >= PartFile.FinalLevel) return null;
        var run = ordered.AsEnumerable().Reverse().TakeWhile(f => f.Level == level).Count();
        return run >= policy.FanIn
            ? new CompactionJob(date, shard, location, ordered[^run..], level + 1, $"{run} files at level {level}")
            : null;
    }

    /// <summary>By hand: every shard-day with more than one file merged into its final file(s).</summary>
    public static IReadOnlyList<CompactionJob> Force(LakeManifest manifest, DateOnly? date, int? shard) =>
        manifest.Metrics.Partitions
            .Where(p => date is null || p.Key == LakeLayout.DateKey(date.Value))
            .SelectMany(p => p.Value.Shards
                .Where(s => shard is null || s.Key == LakeLayout.ShardKey(shard.Value))
                .Where(s => s.Value.Files.Count > 1)
                .Select(s => new CompactionJob(LakeLayout.ParseDateKey(p.Key), int.Parse(s.Key, System.Globalization.CultureInfo.InvariantCulture),
                    p.Value.Location, s.Value.Files.OrderBy(Order).ToList(), PartFile.FinalLevel, "requested by hand")))
            .ToList();

    public static long Order(PartFile f) => f.Version > 0 ? f.Version : f.CommitSeq;
}
