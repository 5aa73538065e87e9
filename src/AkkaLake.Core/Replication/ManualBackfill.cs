using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Replication;

/// <summary>
/// The rules of <c>akkalake backfill</c>: it rebuilds whole days from PostgreSQL as of the
/// watermark, so it needs the first backfill to be complete, and refuses a day that already holds
/// files unless asked to replace them (otherwise its rows would be in the lake twice).
/// </summary>
public static class ManualBackfill
{
    /// <summary>The days to rebuild, newest first, or the reason the request is refused.</summary>
    public static (IReadOnlyList<DateOnly> Days, string? Refusal) Check(LakeManifest manifest, DateOnly from, DateOnly to, bool replace)
    {
        if (to < from)
            return ([], $"--from {LakeLayout.DateKey(from)} is after --to {LakeLayout.DateKey(to)}.");
        if (!manifest.Metrics.FirstBackfillDone)
            return ([], LakeNotReadyException.Refusal(DatasetState.FirstBackfillRunning));
        var days = new List<DateOnly>();
        for (var day = to; day >= from; day = day.AddDays(-1)) days.Add(day);
        if (!replace)
        {
            var occupied = days
                .Where(d => manifest.Metrics.Partitions.TryGetValue(LakeLayout.DateKey(d), out var p) && p.FileCount > 0)
                .Select(LakeLayout.DateKey).ToList();
            if (occupied.Count > 0)
                return ([], $"These days already hold files: {string.Join(", ", occupied)}. Pass --replace to rebuild them from PostgreSQL.");
        }
        return (days, null);
    }

    /// <summary>The rebuild of one day against the current manifest; null when the day has no place in the lake.</summary>
    public static ReplicationStep.Rebuild? StepFor(LakeManifest manifest, DateOnly day, PartitionPlacement placement)
    {
        var cursor = manifest.Metrics.ComputedThroughTs ?? throw new LakeNotReadyException(DatasetState.FirstBackfillRunning);
        var location = placement.LocationFor(day);
        if (location is not { } placed) return null;
        var replaces = manifest.Metrics.Partitions.TryGetValue(LakeLayout.DateKey(day), out var partition)
            ? partition.Shards
                .SelectMany(s => s.Value.Files
                    .Where(f => f.CursorTo is { } to && to <= cursor)
                    .Select(f => new FileRemove(day, LakeLayout.ParseShardKey(s.Key), f.Name)))
                .ToImmutableList()
            : [];
        return new ReplicationStep.Rebuild(day, placed, cursor, replaces);
    }
}
