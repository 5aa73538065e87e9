using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.State;

/// <summary>What one replication run did, for replication.json and the log.</summary>
public sealed record RunReport(
    string RunId,
    string Kind,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    long Rows,
    long Files,
    long Bytes,
    DateTimeOffset? ExportStart,
    DateTimeOffset? ExportEnd,
    DateTimeOffset? MaxInsertedAt)
{
    /// <summary>A failure before any batch began (reading the clock, planning).</summary>
    public static RunReport BeforeAnyBatch(DateTimeOffset at) => new("-", "none", at, at, 0, 0, 0, null, null, null);

    public long DurationMs => (long)(FinishedAt - StartedAt).TotalMilliseconds;

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    public ReplicationState ApplyTo(ReplicationState? previous, LakeManifest manifest, int lateWindowHours, string? error) =>
        (previous ?? new ReplicationState()) with
        {
            LastInsertedAt = Later(MaxInsertedAt, previous?.LastInsertedAt),
            ComputedThroughTs = manifest.Metrics.ComputedThroughTs,
            LastRunAt = StartedAt,
            LastRunDurationMs = DurationMs,
            LastRunRowCount = Rows,
            LastRunBacklogSeconds = manifest.Metrics.ComputedThroughTs is { } w ? Math.Max(0, (FinishedAt - w).TotalSeconds) : null,
            LastRunStatus = error is null ? ReplicationState.Ok : ReplicationState.Failed,
            LastRunError = error,
            LastExportStart = ExportStart ?? previous?.LastExportStart,
            LastExportEnd = ExportEnd ?? previous?.LastExportEnd,
            LastLateWindowHours = lateWindowHours,
            BackfillFromTs = manifest.Metrics.Backfill is { } b ? LakeLayout.DayStart(LakeLayout.ParseDateKey(b.FromDate)) : previous?.BackfillFromTs,
            BackfillToTs = manifest.Metrics.Backfill?.Cursor ?? previous?.BackfillToTs,
            BackfillCompletedAt = manifest.Metrics.Backfill?.CompletedAt ?? previous?.BackfillCompletedAt,
        };
}
