using System.Text.Json.Serialization;
using AkkaLake.Core.Layout;
using AkkaLake.Core.State;

namespace AkkaLake.Core.Inspection;

/// <summary>
/// What <c>akkalake inspect --json</c> prints: exactly the controller's inspector shape
/// (hot_path, cold_path, datasets, replication) plus a few fields of our own.
/// </summary>
public sealed record LakeReport(
    string HotPath,
    string? ColdPath,
    bool LakeExists,
    long? CommitSeq,
    int? Shards,
    long HotBytes,
    long? HotMaxBytes,
    IReadOnlyList<PendingDeletionReport> PendingDeletions,
    IReadOnlyDictionary<string, DatasetReport> Datasets,
    ReplicationState? Replication)
{
    /// <summary>The cold path is the one the lake remembers; none was configured.</summary>
    [JsonIgnore] public bool ColdPathRemembered { get; init; }
}

public sealed record DatasetReport(
    DateTimeOffset? ComputedThroughTs,
    IReadOnlyDictionary<string, PartitionReport> Partitions,
    IReadOnlyDictionary<string, Manifest.ExpiredPartition> ExpiredPartitions,
    Manifest.TakeoverState? Takeover);

public sealed record PartitionReport(
    LakeLocation Location,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCompactedAt,
    int FileCount,
    long Rows,
    long TotalBytes,
    IReadOnlyDictionary<string, ShardReport> Shards);

public sealed record ShardReport(
    [property: JsonPropertyName("parquet_files")] int ParquetFiles,
    long TotalBytes,
    long Rows);

public sealed record PendingDeletionReport(LakeLocation Location, string Path, DateTimeOffset DueAt);
