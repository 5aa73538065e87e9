namespace AkkaLake.Core.Compaction;

/// <summary>
/// How compaction trades rewrites for file counts. Files are merged in tiers: when the newest
/// <see cref="FanIn"/> files of a shard-day share a level they merge into one file one level up,
/// so a row is rewritten at most once per level: ceil(log_FanIn(parts per shard-day)) times.
/// A finished day (before today, UTC) holding more than <see cref="RestFiles"/> files is merged
/// once more into its final file(s), at most <see cref="TargetFileBytes"/> each.
/// </summary>
public sealed record CompactionPolicy(int FanIn = 4, int RestFiles = 2, long TargetFileBytes = 256L * 1024 * 1024, int MaxFiles = 10)
{
    public static readonly CompactionPolicy Default = new();
}
