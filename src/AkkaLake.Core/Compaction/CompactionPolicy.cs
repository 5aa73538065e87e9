namespace AkkaLake.Core.Compaction;

/// <summary>
/// How compaction trades rewrites for file counts. Size tiers: the newest file and each older one
/// holding no more rows than all newer ones together merge once at least <see cref="MinMergeFiles"/>
/// of them line up, so files grow roughly geometrically. When a shard-day still holds more than
/// <see cref="MaxFiles"/> files, the two neighbours with the fewest rows merge. A finished day
/// (before today, UTC) holding more than <see cref="RestFiles"/> files is merged once more into
/// its final file(s), at most <see cref="TargetFileBytes"/> each.
/// </summary>
public sealed record CompactionPolicy(int MinMergeFiles = 3, int RestFiles = 2, long TargetFileBytes = 256L * 1024 * 1024, int MaxFiles = 10)
{
    public static readonly CompactionPolicy Default = new();
}
