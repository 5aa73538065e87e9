using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Compaction;

/// <summary>
/// The shape of a shard-day still being written. Its newest file, when replication wrote it and
/// it spans less than <see cref="HeadSpan"/>, is its open head: the next batch absorbs it (its
/// rows go into that batch's part, which replaces it in the commit) instead of adding a file,
/// and compaction leaves it to replication. So a shard-day fed every 10 s gains a file a minute.
/// </summary>
public static class LiveLayout
{
    public static readonly TimeSpan HeadSpan = TimeSpan.FromMinutes(1);

    /// <summary>The shard-day's open head among its files; null when its newest file is not one.</summary>
    public static PartFile? OpenHead(IEnumerable<PartFile> files)
    {
        var newest = files.MaxBy(f => f.MinTs);
        return newest is { Level: 0 } && newest.Name.StartsWith(PartKind.Incremental.Prefix() + "-", StringComparison.Ordinal) && newest.MaxTs - newest.MinTs < HeadSpan
            ? newest
            : null;
    }
}
