using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Compaction;

/// <summary>One merge: inputs (a contiguous run of the newest data versions of a shard-day) into files of one level.</summary>
public sealed record CompactionJob(DateOnly Date, int Shard, LakeLocation Location, IReadOnlyList<PartFile> Inputs, int OutputLevel, string Reason)
{
    public long InputBytes => Inputs.Sum(f => f.Bytes);
    public long Version => Inputs.Max(f => f.Version > 0 ? f.Version : f.CommitSeq);
}

/// <summary>
/// Decides which files to merge. Pure: the manifest in, jobs out. Shard-days still holding the
/// first implementation's files are left to the takeover, which rebuilds them whole.
/// </summary>
public static class CompactionPlanner
{
    public static IReadOnlyList<CompactionJob> Plan(LakeManifest manifest, DateOnly today, CompactionPolicy policy)
    {
        var jobs = new List<CompactionJob>();
        foreach (var (dateKey, partition) in manifest.Metrics.Partitions)
        {
            var date = LakeLayout.ParseDateKey(dateKey);
            foreach (var (shardKey, shard) in partition.Shards)
                if (!shard.Files.Any(f => f.IsFirstImplementation) && PlanShardDay(date, LakeLayout.ParseShardKey(shardKey), partition.Location, shard.Files, today, policy) is { } job)
                    jobs.Add(job);
        }
        return jobs;
    }

    public static CompactionJob? PlanShardDay(DateOnly date, int shard, LakeLocation location, IReadOnlyList<PartFile> files, DateOnly today, CompactionPolicy policy)
    {
        var ordered = files.OrderBy(Order).ToList();
        if (date < today && ordered.Count > policy.RestFiles)
            return new CompactionJob(date, shard, location, ordered, PartFile.FinalLevel, "finished day");
        // Today's open head is replication's to absorb: merged here, the next batch's commit would conflict.
        if (date >= today && LiveLayout.OpenHead(ordered) is { } head) ordered.Remove(head);

        // Files at the size target or final stay put: merging them again would only copy them.
        var open = ordered.AsEnumerable().Reverse().TakeWhile(f => f.Level < PartFile.FinalLevel && f.Bytes < policy.TargetFileBytes).Count();
        var tail = ordered[^open..];
        var tier = SizeTier(tail);
        if (tier >= policy.MinMergeFiles)
            return Job(tail[^tier..], $"{tier} files of similar size");
        if (files.Count > policy.MaxFiles && tail.Count >= 2)
        {
            var pair = Enumerable.Range(0, tail.Count - 1).MinBy(i => tail[i].Rows + tail[i + 1].Rows);
            return Job(tail[pair..(pair + 2)], $"{files.Count} files, over the budget of {policy.MaxFiles}");
        }
        return null;

        CompactionJob Job(List<PartFile> inputs, string reason) =>
            new(date, shard, location, inputs, Math.Min(inputs.Max(f => f.Level) + 1, PartFile.FinalLevel - 1), reason);
    }

    /// <summary>How many of the newest files form a tier: the newest, then each older one holding no more rows than those before it together.</summary>
    private static int SizeTier(List<PartFile> files)
    {
        long rows = 0;
        var count = 0;
        for (var i = files.Count - 1; i >= 0 && (count == 0 || files[i].Rows <= rows); i--, count++)
            rows += files[i].Rows;
        return count;
    }

    /// <summary>By hand: every shard-day with more than one file merged into its final file(s).</summary>
    public static IReadOnlyList<CompactionJob> Force(LakeManifest manifest, DateOnly? date, int? shard) =>
        manifest.Metrics.Partitions
            .Where(p => date is null || p.Key == LakeLayout.DateKey(date.Value))
            .SelectMany(p => p.Value.Shards
                .Where(s => shard is null || s.Key == LakeLayout.ShardKey(shard.Value))
                .Where(s => s.Value.Files.Count > 1 && !s.Value.Files.Any(f => f.IsFirstImplementation))
                .Select(s => new CompactionJob(LakeLayout.ParseDateKey(p.Key), LakeLayout.ParseShardKey(s.Key),
                    p.Value.Location, s.Value.Files.OrderBy(Order).ToList(), PartFile.FinalLevel, "requested by hand")))
            .ToList();

    public static long Order(PartFile f) => f.Version > 0 ? f.Version : f.CommitSeq;
}
