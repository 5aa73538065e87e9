using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Compaction;

/// <summary>
/// How compaction trades rewrites for file counts. A shard-day is live until readings are no
/// longer expected for it: its end plus the <see cref="CorrectionHorizon"/> (how far back readings
/// are re-sent) and a slice. In a live shard-day, files ending within that horizon of now stay
/// time slices of at most <see cref="SliceSpan"/>, so a re-sent reading rewrites one slice, not
/// the day; older files merge in size tiers above the newest final one. When a
/// shard-day holds more than <see cref="MaxFiles"/> files, the two neighbours with the fewest
/// rows merge. A finished day holding more than <see cref="RestFiles"/> files is merged once more
/// into its final file(s), at most <see cref="TargetFileBytes"/> each.
/// </summary>
public sealed record CompactionPolicy(
    int MinMergeFiles = 3,
    int RestFiles = 2,
    long TargetFileBytes = 256L * 1024 * 1024,
    int MaxFiles = 10,
    TimeSpan? Horizon = null,
    int SlicesPerHorizon = 4)
{
    public static readonly CompactionPolicy Default = new();

    /// <summary>Until readings re-sent this late are seen, compaction assumes they come within 15 minutes.</summary>
    public static readonly TimeSpan DefaultHorizon = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan ShortestSlice = TimeSpan.FromMinutes(5);

    public TimeSpan CorrectionHorizon => Horizon ?? DefaultHorizon;

    public TimeSpan SliceSpan => TimeSpan.FromTicks(Math.Max(ShortestSlice.Ticks, CorrectionHorizon.Ticks / SlicesPerHorizon));

    /// <summary>Readings older than this are not expected again: files ending before it are the old zone.</summary>
    public DateTimeOffset RecentFrom(DateTimeOffset now) => now - CorrectionHorizon - SliceSpan;

    /// <summary>
    /// Where a write of a whole live day cuts its output: at each slice start from the recent
    /// zone's to now, so a reading re-sent later rewrites its slice, not the day. None for a finished day.
    /// </summary>
    public IReadOnlyList<DateTimeOffset> SliceCuts(DateOnly date, DateTimeOffset now)
    {
        var dayStart = LakeLayout.DayStart(date);
        if (dayStart > now || IsFinished(date, now)) return [];
        var dayEnd = LakeLayout.DayStart(date.AddDays(1));
        var cuts = new List<DateTimeOffset>();
        for (var at = dayStart + SliceSpan * Math.Max(1, (RecentFrom(now) - dayStart).Ticks / SliceSpan.Ticks); at <= now && at < dayEnd; at += SliceSpan)
            cuts.Add(at);
        return cuts;
    }

    /// <summary>A day whose every reading is older than the recent zone is finished.</summary>
    public bool IsFinished(DateOnly date, DateTimeOffset now) =>
        date < DateOnly.MaxValue && LakeLayout.DayStart(date.AddDays(1)) <= RecentFrom(now);
}
