using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Reconciliation;

/// <summary>
/// Which hot day to check next: recent days (today and yesterday, where late and corrected rows
/// land) every <see cref="RecentInterval"/>, older ones every <see cref="Interval"/>. One day at
/// a time, the most overdue first (the newest of equals), so PostgreSQL serves at most one day's scan at once.
/// </summary>
public sealed record ReconcileSchedule(TimeSpan Interval, TimeSpan RecentInterval)
{
    public static readonly ReconcileSchedule Default = new(TimeSpan.FromDays(1), TimeSpan.FromHours(1));

    /// <summary>Null when nothing is due, when the lake is still backfilling or taking over (its days are not final yet).</summary>
    public DateOnly? Next(LakeManifest manifest, IReadOnlyDictionary<DateOnly, DateTimeOffset> lastChecked, DateTimeOffset now)
    {
        var metrics = manifest.Metrics;
        if (metrics.NotReady is not null) return null;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        DateOnly? best = null;
        var mostOverdue = TimeSpan.MinValue;
        foreach (var (key, partition) in metrics.Partitions)
        {
            if (partition.Location != LakeLocation.Hot) continue;
            var day = Layout.LakeLayout.ParseDateKey(key);
            var interval = today.DayNumber - day.DayNumber <= 1 ? RecentInterval : Interval;
            var overdue = lastChecked.TryGetValue(day, out var at) ? now - at - interval : TimeSpan.MaxValue;
            if (overdue < TimeSpan.Zero || overdue < mostOverdue) continue;
            (best, mostOverdue) = (day, overdue);
        }
        return best;
    }
}
