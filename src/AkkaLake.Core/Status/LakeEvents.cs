using System.Text.Json;

namespace AkkaLake.Core.Status;

/// <summary>One thing the daemon did, as the status page lists it: a run, compaction, move, deletion or reconciliation.</summary>
/// <param name="Outcome"><c>ok</c>, <c>warning</c> or <c>failed</c>, from the line's level.</param>
public sealed record LakeEvent(DateTimeOffset At, string Kind, string What, long? Rows, long? DurationMs, string Outcome);

/// <summary>Lag behind PostgreSQL at one moment.</summary>
public sealed record LagPoint(DateTimeOffset At, double LagSeconds);

/// <summary>Which of the daemon's log lines are events, and of what kind, by their message templates.</summary>
public static class LakeEvents
{
    /// <summary>The most events the status keeps, newest first.</summary>
    public const int MaxEvents = 50;

    private static readonly (string Prefix, string Kind)[] Kinds =
    [
        ("Replicated", "run"), ("Backfilled", "backfill"), ("Backfill of", "backfill"), ("Took over", "takeover"), ("Takeover complete", "takeover"),
        ("Rebuilt {Date}", "rebuild"), ("Rebuilding {Date}", "reconcile"),
        ("Compacted", "compaction"), ("Compaction of", "compaction"),
        ("Partition {Date}", "move"), ("Could not move", "move"), ("Retention of", "move"),
        ("Deleted {Files}", "deletion"), ("Deleting files", "deletion"),
        ("Checked {Date}", "reconcile"), ("{Date} differs", "reconcile"), ("Could not check", "reconcile"),
    ];

    /// <summary>The kind of event a line with this template is; null when it is not one.</summary>
    public static string? KindOf(string template)
    {
        foreach (var (prefix, kind) in Kinds)
            if (template.StartsWith(prefix, StringComparison.Ordinal)) return kind;
        return null;
    }

    /// <summary>An event from one compact-JSON log line whose template is of <paramref name="kind"/>.</summary>
    public static LakeEvent Of(JsonElement line, DateTimeOffset at, string kind, string rendered)
    {
        var level = line.TryGetProperty("@l", out var l) ? l.GetString() : "Information";
        return new LakeEvent(at, kind, rendered, Number(line, "Rows"), Number(line, "DurationMs"),
            level switch { "Warning" => "warning", "Error" or "Fatal" => "failed", _ => "ok" });
    }

    private static long? Number(JsonElement line, string property) =>
        line.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}

/// <summary>
/// Lag samples of the last hour, kept by the running daemon for its status page: bounded by age
/// and count, safe to add to and read from different threads.
/// </summary>
public sealed class LagHistory(TimeSpan window, int capacity)
{
    private readonly Queue<LagPoint> _points = new();
    private readonly Lock _gate = new();

    public static LagHistory LastHour() => new(TimeSpan.FromHours(1), 720);

    public void Add(LagPoint point)
    {
        lock (_gate)
        {
            _points.Enqueue(point);
            while (_points.Count > capacity || _points.Peek().At < point.At - window) _points.Dequeue();
        }
    }

    public IReadOnlyList<LagPoint> Snapshot()
    {
        lock (_gate) return [.. _points];
    }
}
