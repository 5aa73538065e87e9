using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Compaction;

/// <summary>
/// One merge: inputs of a shard-day into files of one level. With <see cref="SplitAt"/>, the
/// output is cut at those times, one file (or more past the size target) per range.
/// </summary>
public sealed record CompactionJob(DateOnly Date, int Shard, LakeLocation Location, IReadOnlyList<PartFile> Inputs, int OutputLevel, string Reason)
{
    public long InputBytes => Inputs.Sum(f => f.Bytes);
    public long Version => Inputs.Max(f => f.Version > 0 ? f.Version : f.CommitSeq);

    public IReadOnlyList<DateTimeOffset> SplitAt { get; init; } = [];
}

/// <summary>
/// Decides which files to merge. Pure: the manifest and the time in, jobs out. Shard-days still
/// holding the first implementation's files are left to the takeover, which rebuilds them whole.
/// </summary>
public static class CompactionPlanner
{
    public static IReadOnlyList<CompactionJob> Plan(LakeManifest manifest, DateTimeOffset now, CompactionPolicy policy)
    {
        var jobs = new List<CompactionJob>();
        foreach (var (dateKey, partition) in manifest.Metrics.Partitions)
        {
            var date = LakeLayout.ParseDateKey(dateKey);
            foreach (var (shardKey, shard) in partition.Shards)
                if (!shard.Files.Any(f => f.IsFirstImplementation) && PlanShardDay(date, LakeLayout.ParseShardKey(shardKey), partition.Location, shard.Files, now, policy) is { } job)
                    jobs.Add(job);
        }
        return jobs;
    }

    public static CompactionJob? PlanShardDay(DateOnly date, int shard, LakeLocation location, IReadOnlyList<PartFile> files, DateTimeOffset now, CompactionPolicy policy)
    {
        if (policy.IsFinished(date, now))
            return files.Count > policy.RestFiles ? Job([.. files.OrderBy(Order)], PartFile.FinalLevel, "finished day") : null;

        // By time: a live shard-day's files hold disjoint ranges (readings go to the file their time falls in).
        var byTime = files.OrderBy(f => f.MinTs).ThenBy(Order).ToList();
        // Its open head is replication's to absorb: merged here, the next batch's commit would conflict.
        if (LiveLayout.OpenHead(byTime) is { } head) byTime.Remove(head);
        var span = policy.SliceSpan;
        var recentFrom = policy.RecentFrom(now);
        var dayStart = LakeLayout.DayStart(date);
        long Slice(DateTimeOffset ts) => (ts - dayStart).Ticks / span.Ticks;
        DateTimeOffset SliceStart(long slice) => dayStart + TimeSpan.FromTicks(slice * span.Ticks);

        // A file reaching over several slices into the recent zone (a backfill, a rebuilt day) is cut into slices, once
        // readings are seen re-sent later than the default horizon: otherwise the day's file stays whole, as written.
        if (policy.CorrectionHorizon > CompactionPolicy.DefaultHorizon)
            foreach (var f in byTime.Where(f => f.MaxTs >= recentFrom))
            {
                var first = Math.Max(Slice(f.MinTs) + 1, Slice(recentFrom));
                var cuts = Enumerable.Range(0, (int)Math.Max(0, Slice(f.MaxTs) - first + 1)).Select(i => SliceStart(first + i)).Where(c => c > f.MinTs).ToList();
                if (cuts.Count >= 2)
                    return Job([f], Level([f]), $"cut into {span.TotalMinutes:0}-minute slices for readings re-sent within {policy.CorrectionHorizon.TotalMinutes:0} minutes") with { SplitAt = cuts };
            }

        // Recent zone: the files of a slice merge, in size tiers while it fills, into one once it is over.
        var recent = byTime.Where(f => f.MaxTs >= recentFrom).ToList();
        foreach (var group in recent.GroupBy(f => Slice(f.MinTs)).OrderBy(g => g.Key))
        {
            var inSlice = group.ToList();
            var over = SliceStart(group.Key + 1) + LiveLayout.HeadSpan <= now;
            if (over && inSlice.Count >= 2)
                return Job(inSlice, Level(inSlice), "slice complete");
            var tier = SizeTier(inSlice);
            if (!over && tier >= policy.MinMergeFiles)
                return Job(inSlice[^tier..], Level(inSlice), $"{tier} files of similar size");
        }

        // Old zone: size tiers above the newest file that is final (a backfill's older part) or at the size target.
        var old = byTime.Where(f => f.MaxTs < recentFrom).ToList();
        var open = old.AsEnumerable().Reverse().TakeWhile(f => f.Level < PartFile.FinalLevel && f.Bytes < policy.TargetFileBytes).Count();
        var oldTier = SizeTier(old[^open..]);
        if (oldTier >= policy.MinMergeFiles)
            return Job(old[^oldTier..], Level(old[^oldTier..]), $"{oldTier} older files of similar size");

        // Over the budget: the old zone gives way (a merge in the recent zone would be cut into slices again).
        var movable = old.Where(f => f.Bytes < policy.TargetFileBytes).ToList();
        if (files.Count > policy.MaxFiles && movable.Count >= 2)
        {
            var pair = Enumerable.Range(0, movable.Count - 1).MinBy(i => movable[i].Rows + movable[i + 1].Rows);
            return Job(movable[pair..(pair + 2)], Level(movable[pair..(pair + 2)]), $"{files.Count} files, over the budget of {policy.MaxFiles}");
        }
        // Still over (the day's older part is final, its recent slices one file each): the slice holding the most files merges,
        // a backfill's short slices or the minutes of the one filling; a slice is one time range, so nothing cuts it again.
        if (files.Count > policy.MaxFiles && recent.GroupBy(f => Slice(f.MinTs)).Where(g => g.Count() >= 2).MaxBy(g => g.Count()) is { } crowded)
            return Job([.. crowded], Level([.. crowded]), $"{files.Count} files, over the budget of {policy.MaxFiles}");
        return null;

        CompactionJob Job(List<PartFile> inputs, int level, string reason) => new(date, shard, location, inputs, level, reason);
        static int Level(List<PartFile> inputs) => Math.Min(inputs.Max(f => f.Level) + 1, PartFile.FinalLevel - 1);
    }

    /// <summary>How many of the newest files form a tier: the newest, then each older one holding no more rows than those before it together.</summary>
    private static int SizeTier(IReadOnlyList<PartFile> files)
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
