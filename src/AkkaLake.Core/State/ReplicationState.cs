namespace AkkaLake.Core.State;

/// <summary>
/// <c>_state/replication.json</c>, the controller's contract. Written after each commit; it mirrors
/// the manifest's watermark, which stays the authority.
/// </summary>
public sealed record ReplicationState
{
    public int SchemaVersion { get; init; } = 1;
    public DateTimeOffset? LastInsertedAt { get; init; }
    public DateTimeOffset? ComputedThroughTs { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public long? LastRunDurationMs { get; init; }
    public long? LastRunRowCount { get; init; }
    public double? LastRunBacklogSeconds { get; init; }
    public string? LastRunStatus { get; init; }
    public string? LastRunError { get; init; }
    public DateTimeOffset? LastExportStart { get; init; }
    public DateTimeOffset? LastExportEnd { get; init; }
    public int? LastLateWindowHours { get; init; }
    public DateTimeOffset? BackfillFromTs { get; init; }
    public DateTimeOffset? BackfillToTs { get; init; }
    public DateTimeOffset? BackfillCompletedAt { get; init; }

    public const string Ok = "ok";
    public const string Failed = "failed";
}
