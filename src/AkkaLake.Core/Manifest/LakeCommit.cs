using System.Collections.Immutable;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Manifest;

/// <summary>One atomic change to the lake: files added, files removed, watermark, backfill and takeover progress.</summary>
/// <param name="Rebuilt">A whole day rebuilt from PostgreSQL, planned at that time: it answers the day's rebuild mark found before then.</param>
public sealed record LakeCommit(
    CommitKind Kind,
    string RunId,
    ImmutableList<FileAdd> Adds,
    ImmutableList<FileRemove> Removes,
    DateTimeOffset? Watermark = null,
    BackfillState? Backfill = null,
    TakeoverState? Takeover = null,
    (DateOnly Day, DateTimeOffset PlannedAt)? Rebuilt = null);

public sealed record FileAdd(DateOnly Date, int Shard, LakeLocation Location, PartFile File);

public sealed record FileRemove(DateOnly Date, int Shard, string Name);

/// <summary>A commit that no longer fits the manifest (its inputs changed meanwhile); it is retried, not forced.</summary>
public sealed class ManifestConflictException(string message) : Exception(message);
