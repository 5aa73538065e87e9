namespace AkkaLake.Core.Compaction;

/// <summary>
/// How far back readings arrive again, learned from the batches: the oldest reading each placed
/// into a committed file (a re-sent reading, or a late one), kept as hourly maxima for a day.
/// Compaction keeps that much of a live shard-day in time slices. Rounded up to a quarter of an
/// hour, at least <see cref="CompactionPolicy.DefaultHorizon"/>, at most <see cref="Longest"/>.
/// Shared by the batch writers that observe and the compaction that reads it.
/// </summary>
public sealed class CorrectionHorizon
{
    public static readonly TimeSpan Longest = TimeSpan.FromHours(12);
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Memory = TimeSpan.FromDays(1);

    private readonly Lock _lock = new();
    private readonly SortedDictionary<DateTimeOffset, TimeSpan> _hourly = [];

    /// <summary>A batch placed a reading this old into a committed file.</summary>
    public void Observe(DateTimeOffset now, TimeSpan age)
    {
        if (age <= TimeSpan.Zero) return;
        var hour = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        lock (_lock)
        {
            _hourly[hour] = _hourly.TryGetValue(hour, out var seen) && seen >= age ? seen : age;
            foreach (var stale in _hourly.Keys.TakeWhile(h => h < now - Memory).ToList()) _hourly.Remove(stale);
        }
    }

    public TimeSpan Current(DateTimeOffset now)
    {
        TimeSpan oldest;
        lock (_lock)
            oldest = _hourly.Where(h => h.Key >= now - Memory).Select(h => h.Value).DefaultIfEmpty(TimeSpan.Zero).Max();
        var rounded = TimeSpan.FromTicks((oldest.Ticks + Step.Ticks - 1) / Step.Ticks * Step.Ticks);
        return rounded < CompactionPolicy.DefaultHorizon ? CompactionPolicy.DefaultHorizon : rounded > Longest ? Longest : rounded;
    }
}
