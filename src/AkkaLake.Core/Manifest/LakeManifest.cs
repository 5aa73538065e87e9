using System.Collections.Immutable;
using System.Text.Json.Serialization;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// The single source of truth for what the lake holds: every committed file, where it is, the
/// watermark, and work in flight. Immutable; every change is a pure function returning a new
/// manifest (see <see cref="ManifestEdits"/>), persisted by <see cref="ManifestStore"/>.
/// </summary>
public sealed record LakeManifest(
    int SchemaVersion,
    int Shards,
    long CommitSeq,
    DateTimeOffset UpdatedAt,
    PendingCommit? PendingCommit,
    ImmutableList<PendingDeletion> PendingDeletions,
    ImmutableSortedDictionary<string, DatasetState> Datasets)
{
    public const int CurrentSchemaVersion = 1;

    public static LakeManifest Create(int shards, DateTimeOffset now) => new(
        CurrentSchemaVersion,
        shards,
        0,
        now,
        null,
        [],
        ImmutableSortedDictionary<string, DatasetState>.Empty.Add(LakeLayout.Dataset, DatasetState.Empty));

    [JsonIgnore]
    public DatasetState Metrics => Datasets.TryGetValue(LakeLayout.Dataset, out var d) ? d : DatasetState.Empty;

    public PartitionState? Partition(DateOnly date) => Metrics.Partitions.GetValueOrDefault(LakeLayout.DateKey(date));

    /// <summary>Every committed file with its location and lake-relative path.</summary>
    public IEnumerable<CommittedFile> Files() =>
        from p in Metrics.Partitions
        from s in p.Value.Shards
        from f in s.Value.Files
        select new CommittedFile(p.Value.Location, LakeLayout.ParseDateKey(p.Key), LakeLayout.ParseShardKey(s.Key), f);
}

/// <param name="DaysToRebuild">Days reconciliation found differing from PostgreSQL, by date key: kept until a whole-day rebuild of the day commits.</param>
public sealed record DatasetState(
    DateTimeOffset? ComputedThroughTs,
    BackfillState? Backfill,
    ImmutableSortedDictionary<string, PartitionState> Partitions,
    ImmutableSortedDictionary<string, ExpiredPartition>? ExpiredPartitions = null,
    TakeoverState? Takeover = null,
    ImmutableSortedDictionary<string, RebuildMark>? DaysToRebuild = null)
{
    public static readonly DatasetState Empty = new(null, null, ImmutableSortedDictionary<string, PartitionState>.Empty, ImmutableSortedDictionary<string, ExpiredPartition>.Empty);

    public const string FirstBackfillRunning = "the lake's first backfill has not completed yet";

    /// <summary>The first backfill (or a takeover's adoption) set the watermark: incremental replication goes on from it.</summary>
    [JsonIgnore]
    public bool FirstBackfillDone => ComputedThroughTs is not null;

    /// <summary>
    /// Why the lake's days are not yet final, so checks against PostgreSQL (reconciliation, parity)
    /// and readiness wait: the first backfill or a takeover is still rebuilding them. Null once ready.
    /// </summary>
    [JsonIgnore]
    public string? NotReady => !FirstBackfillDone ? FirstBackfillRunning
        : Takeover is { CompletedAt: null } t ? $"the takeover of the first implementation's lake is still rebuilding days ({t.DaysLeft.Count} of {t.DaysTotal} left)"
        : null;

    /// <summary>The watermark of a ready lake; the one refusal (<see cref="LakeNotReadyException"/>) otherwise.</summary>
    [JsonIgnore]
    public DateTimeOffset ReadyWatermark => NotReady is { } reason ? throw new LakeNotReadyException(reason) : ComputedThroughTs!.Value;
}

/// <summary>Work that needs final days asked of a lake still backfilling or taking over.</summary>
public sealed class LakeNotReadyException(string reason) : InvalidOperationException(Refusal(reason))
{
    /// <summary>The one way a refusal for <see cref="DatasetState.NotReady"/> is worded.</summary>
    public static string Refusal(string reason) => $"The lake is not ready: {reason}; try again once it is.";
}

/// <summary>Why a day is to be rebuilt from PostgreSQL, and when the check that found it began.</summary>
public sealed record RebuildMark(DateTimeOffset FoundAt, string Reason);

/// <summary>A partition that left a hot-only lake past the horizon; PostgreSQL still has its rows.</summary>
public sealed record ExpiredPartition(DateTimeOffset ExpiredAt, int FileCount, long Rows, long Bytes);

/// <summary>One date. <c>location</c>, <c>updated_at</c>, <c>last_compacted_at</c> and <c>file_count</c> are the controller's contract.</summary>
public sealed record PartitionState(
    LakeLocation Location,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCompactedAt,
    int FileCount,
    long Rows,
    long Bytes,
    ImmutableSortedDictionary<string, ShardState> Shards);

public sealed record ShardState(ImmutableList<PartFile> Files);

/// <summary>
/// A committed part file. Cursor bounds are the inserted_at range its rows were selected by.
/// <see cref="Version"/> orders data for "newest wins": the commit that wrote the rows (for a
/// compaction output, the newest of its inputs). <see cref="Level"/> is its compaction tier.
/// <see cref="Xxh3"/> is the checksum of the file as committed (none for files adopted or rebuilt from footers).
/// </summary>
public sealed record PartFile(
    string Name,
    long Rows,
    long Bytes,
    DateTimeOffset MinTs,
    DateTimeOffset MaxTs,
    DateTimeOffset? CursorFrom,
    DateTimeOffset? CursorTo,
    long CommitSeq,
    string RunId,
    int Level = 0,
    long Version = 0,
    string? Xxh3 = null)
{
    /// <summary>Files a backfill or a finished-day merge wrote: not merged again by the tiers.</summary>
    public const int FinalLevel = 1000;

    /// <summary>A file the controller's first implementation wrote, adopted by a takeover until its day is rebuilt.</summary>
    [JsonIgnore]
    public bool IsFirstImplementation => RunId == TakeoverState.FirstImplementationRunId;
}

public sealed record CommittedFile(LakeLocation Location, DateOnly Date, int Shard, PartFile File)
{
    public string RelativePath => LakeLayout.FilePath(Date, Shard, File.Name);
}

/// <summary>
/// A commit that was started but not finished; recovery undoes it: the <see cref="Files"/> it
/// published are removed and the files it <see cref="Retired"/> get their names back.
/// </summary>
public sealed record PendingCommit(long CommitSeq, CommitKind Kind, string RunId, DateTimeOffset StartedAt, ImmutableList<FileLocation> Files, ImmutableList<FileLocation>? Retired = null);

/// <summary>
/// A file no longer referenced, kept as <see cref="Path"/> + <see cref="LakeLayout.SupersededSuffix"/>
/// and deleted once <see cref="DueAt"/> passes, so running scans keep it.
/// </summary>
public sealed record PendingDeletion(LakeLocation Location, string Path, DateTimeOffset DueAt)
{
    [JsonIgnore]
    public string SupersededPath => LakeLayout.SupersededPath(Path);
}

public sealed record FileLocation(LakeLocation Location, string Path);

/// <summary>
/// A first-start backfill of the hot horizon by ts, newest day first, of rows with
/// inserted_at &lt;= <see cref="Cursor"/> or NULL. Days in <see cref="DaysDone"/> are committed.
/// </summary>
public sealed record BackfillState(
    DateTimeOffset Cursor,
    string FromDate,
    string ToDate,
    ImmutableSortedSet<string> DaysDone,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt)
{
    /// <summary>Days from <see cref="FromDate"/> through <see cref="ToDate"/>; the backfill is complete when all are done.</summary>
    public int TotalDays() => LakeLayout.ParseDateKey(ToDate).DayNumber - LakeLayout.ParseDateKey(FromDate).DayNumber + 1;

    /// <summary>The days not done yet.</summary>
    public IEnumerable<DateOnly> DaysLeft()
    {
        for (var day = LakeLayout.ParseDateKey(FromDate); day <= LakeLayout.ParseDateKey(ToDate); day = day.AddDays(1))
            if (!DaysDone.Contains(LakeLayout.DateKey(day))) yield return day;
    }
}

/// <summary>
/// Taking over a lake the controller's first implementation wrote: its files were adopted as they
/// are, and each day in <see cref="DaysLeft"/> is still to be rebuilt from PostgreSQL as of
/// <see cref="Cursor"/> (its watermark) and swapped for them in one commit, newest day first.
/// </summary>
public sealed record TakeoverState(
    DateTimeOffset StartedAt,
    DateTimeOffset Cursor,
    int DaysTotal,
    ImmutableSortedSet<string> DaysLeft,
    DateTimeOffset? CompletedAt)
{
    /// <summary>The run id recorded for adopted files.</summary>
    public const string FirstImplementationRunId = "first-implementation";
}

