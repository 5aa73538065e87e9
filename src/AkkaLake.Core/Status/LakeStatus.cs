using AkkaLake.Core.Compaction;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;

namespace AkkaLake.Core.Status;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<Health>))]
public enum Health
{
    Healthy = 0,
    Degraded = 1,
    Down = 2,
}

/// <summary>A warning or error the daemon logged recently.</summary>
public sealed record LoggedProblem(DateTimeOffset At, string Level, string Message);

/// <summary>Everything <c>akkalake status</c> reads, gathered by <see cref="LakeStatusReader"/>.</summary>
public sealed record StatusInputs(
    LakeManifest? Manifest,
    string? ManifestProblem,
    ReplicationState? Replication,
    int? DaemonPid,
    bool? ColdPathReachable,
    IReadOnlyList<LoggedProblem> RecentProblems,
    int LateWindowHours,
    long? HotMaxBytes,
    string? ReplicationDown = null,
    double? CompactionBytesPerSecond = null)
{
    /// <summary>The last day's runs, compactions, moves, deletions and reconciliations, newest first.</summary>
    public IReadOnlyList<LakeEvent> Events { get; init; } = [];

    /// <summary>What reconciliation last said of each day it spoke of (<see cref="Status.ReconcileMarks"/>), by date key.</summary>
    public IReadOnlyDictionary<string, string> ReconcileMarks { get; init; } = new Dictionary<string, string>();

    /// <summary>Lag behind PostgreSQL over the last hour, oldest first.</summary>
    public IReadOnlyList<LagPoint> LagHistory { get; init; } = [];
}

/// <summary>How far the first backfill or takeover is: days done of days to do.</summary>
public sealed record DaysDone(string Work, int Done, int Total);

/// <summary>What <c>akkalake status</c> says: one verdict, the reasons for it, and the figures an operator looks at.</summary>
public sealed record LakeStatus(
    Health Health,
    IReadOnlyList<string> Reasons,
    int? DaemonPid,
    DateTimeOffset? Watermark,
    double? LagSeconds,
    string? LastRunStatus,
    DateTimeOffset? LastRunAt,
    string? LastRunError,
    string? Backfill,
    long HotBytes,
    long? HotMaxBytes,
    bool? ColdPathReachable,
    IReadOnlyList<LoggedProblem> RecentProblems,
    CompactionBacklog? Backlog = null,
    double? BacklogSecondsToClear = null)
{
    /// <summary>The first backfill's or takeover's progress while it runs.</summary>
    public DaysDone? Progress { get; init; }

    /// <summary>The lake as a map: a row per retained day, newest first, a cell per shard-day.</summary>
    public IReadOnlyList<MapDay> Map { get; init; } = [];

    /// <summary>Lag behind PostgreSQL over the last hour, oldest first.</summary>
    public IReadOnlyList<LagPoint> LagHistory { get; init; } = [];

    /// <summary>The last day's runs, compactions, moves, deletions and reconciliations, newest first.</summary>
    public IReadOnlyList<LakeEvent> Events { get; init; } = [];

    /// <summary>When this status was taken.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Why the lake is not fresh: the watermark past the late window, or a failed last run. Status and the health check share it.</summary>
    public static IEnumerable<string> FreshnessProblems(DateTimeOffset? watermark, ReplicationState? replication, int lateWindowHours, DateTimeOffset now)
    {
        if (watermark is { } w && now - w > TimeSpan.FromHours(lateWindowHours))
            yield return $"the watermark is {(now - w).TotalHours:0.0} h behind, more than the late window of {lateWindowHours} h";
        if (replication?.LastRunStatus == ReplicationState.Failed)
            yield return $"the last run failed: {replication.LastRunError}";
    }

    /// <summary>
    /// Down: no readable lake, no daemon keeping it, or its replication down. Degraded: the last
    /// run failed, the watermark is further behind than the late window, the hot budget is
    /// exceeded, the cold path is out of reach while partitions live there, the lake holds more
    /// than twice the files compaction leaves it with, or errors were logged in the last hour.
    /// </summary>
    public static LakeStatus Judge(StatusInputs s, DateTimeOffset now)
    {
        var down = new List<string>();
        var degraded = new List<string>();
        if (s.Manifest is null) down.Add(s.ManifestProblem ?? "there is no lake here yet (no _state/manifest.json)");
        if (s.DaemonPid is null) down.Add("the daemon is not running (nobody holds the lake's writer lock)");
        if (s.ReplicationDown is { } why) down.Add("replication is down: " + why);

        var metrics = s.Manifest?.Metrics;
        var watermark = metrics?.ComputedThroughTs;
        double? lag = watermark is { } w ? Math.Max(0, (now - w).TotalSeconds) : null;
        degraded.AddRange(FreshnessProblems(watermark, s.Replication, s.LateWindowHours, now));
        var hotBytes = metrics?.Partitions.Values.Where(p => p.Location == LakeLocation.Hot).Sum(p => p.Bytes) ?? 0;
        if (s.HotMaxBytes is { } max && hotBytes > max)
            degraded.Add($"the hot path holds {hotBytes:N0} bytes, over its budget of {max:N0}");
        if (s.ColdPathReachable == false && metrics?.Partitions.Values.Any(p => p.Location == LakeLocation.Cold) == true)
            degraded.Add("the cold path is not reachable while partitions live there (is the NAS mounted?)");
        var backlog = s.Manifest is { } lake ? CompactionBacklog.Of(lake, now, CompactionPolicy.Default) : null;
        var timeToClear = backlog?.TimeToClear(s.CompactionBytesPerSecond);
        if (backlog is { SlowsReads: true } over)
            degraded.Add($"the lake holds {over.Files:N0} files, more than twice the {over.FinalFiles:N0} it holds once compaction catches up, so the controller's reads are slower: " +
                $"{over.ShardDays:N0} shard-days over their file budget{(timeToClear is { } t ? $", about {Duration(t)} to merge" : "")}");
        var errors = s.RecentProblems.Count(p => p.Level == "Error" || p.Level == "Fatal");
        if (errors > 0)
            degraded.Add($"{errors} errors logged in the last hour");

        (string? backfill, DaysDone? progress) = metrics switch
        {
            { Backfill: { CompletedAt: null } b } => ($"first backfill in progress: {b.DaysDone.Count} days done of {b.FromDate} to {b.ToDate}",
                new DaysDone("first backfill", b.DaysDone.Count, b.TotalDays())),
            { Takeover: { CompletedAt: null } t } => ($"taking over the first implementation's lake: {t.DaysTotal - t.DaysLeft.Count} of {t.DaysTotal} days rebuilt",
                new DaysDone("takeover", t.DaysTotal - t.DaysLeft.Count, t.DaysTotal)),
            { Backfill.CompletedAt: { } done } => ($"first backfill completed {Timestamps.Format(done)}", (DaysDone?)null),
            _ => (null, null),
        };
        var health = down.Count > 0 ? Health.Down : degraded.Count > 0 ? Health.Degraded : Health.Healthy;
        return new LakeStatus(health, [.. down, .. degraded], s.DaemonPid, watermark, lag, s.Replication?.LastRunStatus, s.Replication?.LastRunAt,
            s.Replication?.LastRunError, backfill, hotBytes, s.HotMaxBytes, s.ColdPathReachable, s.RecentProblems, backlog, timeToClear?.TotalSeconds)
        {
            At = now,
            Progress = progress,
            Map = s.Manifest is { } m ? LakeMap.Of(m, s.ReconcileMarks, now, CompactionPolicy.Default) : [],
            LagHistory = s.LagHistory,
            Events = s.Events,
        };
    }

    /// <summary>A duration as an operator reads it: seconds, minutes or hours.</summary>
    public static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 120 => $"{t.TotalSeconds:0} s",
        < 7200 => $"{t.TotalMinutes:0} min",
        _ => $"{t.TotalHours:0.0} h",
    };
}
