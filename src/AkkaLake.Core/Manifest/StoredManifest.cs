using System.Collections.Immutable;
using System.Text.Json.Serialization;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// <c>_state/manifest.json</c> as it is written: the lake's root. Each partition keeps the fields
/// the controller reads (location, updated_at, last_compacted_at, file_count) and names the file
/// holding its file list (<see cref="StoredFileList"/>). A root written by an older build holds
/// the lists inline (<c>shards</c>), its pending commit and its pending deletions; they are read,
/// and the next save writes the current form.
/// </summary>
internal sealed record StoredManifest(
    int SchemaVersion,
    int Shards,
    long CommitSeq,
    DateTimeOffset UpdatedAt,
    ImmutableSortedDictionary<string, StoredDataset> Datasets,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PendingCommit? PendingCommit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ImmutableList<PendingDeletion>? PendingDeletions = null);

internal sealed record StoredDataset(
    DateTimeOffset? ComputedThroughTs,
    BackfillState? Backfill,
    ImmutableSortedDictionary<string, StoredPartition> Partitions,
    ImmutableSortedDictionary<string, ExpiredPartition>? ExpiredPartitions = null,
    TakeoverState? Takeover = null,
    ImmutableSortedDictionary<string, RebuildMark>? DaysToRebuild = null);

/// <param name="FileList">The name of its file list under <c>_state/files/</c>; null in a root written by an older build.</param>
/// <param name="Shards">The file lists inline, as an older build wrote them.</param>
internal sealed record StoredPartition(
    LakeLocation Location,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCompactedAt,
    int FileCount,
    long Rows,
    long Bytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FileList = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ImmutableSortedDictionary<string, ShardState>? Shards = null);

/// <summary>
/// <c>_state/files/&lt;date&gt;.&lt;commit&gt;.json</c>: one partition's file list as a commit left it.
/// Never changed once written: a commit that changes the partition writes a new one, so a commit
/// writes the lists of the partitions it touched and the root, not the whole lake.
/// </summary>
internal sealed record StoredFileList(ImmutableSortedDictionary<string, ShardState> Shards);

/// <summary>
/// <c>_state/commits/&lt;seq&gt;.json</c>: a commit's intent, written before any of its renames. While
/// the root's commit_seq is below it, the commit is in progress and recovery undoes it; once the
/// root has it, it records the files the commit superseded and when they may be deleted, until they are.
/// </summary>
internal sealed record StoredCommit(PendingCommit Commit, ImmutableList<PendingDeletion> Deletions);
