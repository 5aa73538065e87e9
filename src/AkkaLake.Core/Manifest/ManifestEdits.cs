using System.Collections.Immutable;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Manifest;

/// <summary>The pure edits of a manifest. Each validates and returns a new manifest; none does I/O.</summary>
public static class ManifestEdits
{
    /// <summary>Records that a commit has started, so recovery can undo it if the process dies.</summary>
    public static LakeManifest Begin(this LakeManifest m, PendingCommit pending)
    {
        if (m.PendingCommit is { } p)
            throw new ManifestConflictException($"Commit {p.CommitSeq} ({p.Kind}, run {p.RunId}) is still in progress.");
        if (pending.CommitSeq != m.CommitSeq + 1)
            throw new ManifestConflictException($"Commit sequence {pending.CommitSeq} does not follow {m.CommitSeq}.");
        return m with { PendingCommit = pending };
    }

    public static LakeManifest AbandonPending(this LakeManifest m, DateTimeOffset now) =>
        m with { PendingCommit = null, UpdatedAt = now };

    /// <summary>
    /// Applies a commit: removes and adds files, advances the watermark (never backwards),
    /// records backfill progress. Removed files become pending deletions due at <paramref name="deleteAfter"/>.
    /// </summary>
    public static LakeManifest Apply(this LakeManifest m, LakeCommit commit, DateTimeOffset now, DateTimeOffset deleteAfter)
    {
        var seq = m.CommitSeq + 1;
        var dataset = m.Metrics;
        var partitions = dataset.Partitions.ToBuilder();
        var deletions = m.PendingDeletions.ToBuilder();
        var touched = new HashSet<string>();

        foreach (var remove in commit.Removes)
        {
            var key = LakeLayout.DateKey(remove.Date);
            var shardKey = LakeLayout.ShardKey(remove.Shard);
            if (!partitions.TryGetValue(key, out var partition) ||
                !partition.Shards.TryGetValue(shardKey, out var shard) ||
                shard.Files.FirstOrDefault(f => f.Name == remove.Name) is not { } file)
                throw new ManifestConflictException($"{LakeLayout.FilePath(remove.Date, remove.Shard, remove.Name)} is not in the manifest any more.");
            partitions[key] = partition with
            {
                Shards = partition.Shards.SetItem(shardKey, new ShardState(shard.Files.Remove(file))),
            };
            deletions.Add(new PendingDeletion(partition.Location, LakeLayout.FilePath(remove.Date, remove.Shard, remove.Name), deleteAfter));
            touched.Add(key);
        }

        foreach (var add in commit.Adds)
        {
            if (add.Shard < 0 || add.Shard >= m.Shards)
                throw new ArgumentException($"Shard {add.Shard} is outside 0..{m.Shards - 1}.");
            var key = LakeLayout.DateKey(add.Date);
            var shardKey = LakeLayout.ShardKey(add.Shard);
            var partition = partitions.TryGetValue(key, out var existing)
                ? existing
                : new PartitionState(add.Location, now, null, 0, 0, 0, ImmutableSortedDictionary<string, ShardState>.Empty);
            if (partition.Location != add.Location)
                throw new ManifestConflictException($"Partition {key} is {partition.Location} now, not {add.Location}.");
            var files = partition.Shards.TryGetValue(shardKey, out var shard) ? shard.Files : [];
            if (files.Any(f => f.Name == add.File.Name))
                throw new ManifestConflictException($"{LakeLayout.FilePath(add.Date, add.Shard, add.File.Name)} is already committed.");
            partitions[key] = partition with
            {
                Shards = partition.Shards.SetItem(shardKey, new ShardState(files.Add(add.File with { CommitSeq = seq, Version = add.File.Version > 0 ? add.File.Version : seq }))),
            };
            touched.Add(key);
        }

        foreach (var key in touched)
        {
            var p = Recount(partitions[key], now);
            if (p is null)
                partitions.Remove(key);
            else
                partitions[key] = commit.Kind == CommitKind.Compaction ? p with { LastCompactedAt = now } : p;
        }

        var watermark = dataset.ComputedThroughTs;
        if (commit.Watermark is { } w)
        {
            if (watermark is { } current && w < current)
                throw new ManifestConflictException($"Watermark may not move back from {Timestamps.Format(current)} to {Timestamps.Format(w)}.");
            watermark = w;
        }

        var marks = dataset.DaysToRebuild;
        if (commit.Rebuilt is { } rebuilt && marks?.GetValueOrDefault(LakeLayout.DateKey(rebuilt.Day)) is { } mark && mark.FoundAt <= rebuilt.PlannedAt)
            marks = marks.Remove(LakeLayout.DateKey(rebuilt.Day));

        var newDataset = dataset with
        {
            ComputedThroughTs = watermark,
            Backfill = commit.Backfill ?? dataset.Backfill,
            Takeover = commit.Takeover ?? dataset.Takeover,
            Partitions = partitions.ToImmutable(),
            DaysToRebuild = marks,
        };
        return m with
        {
            CommitSeq = seq,
            UpdatedAt = now,
            PendingCommit = null,
            PendingDeletions = deletions.ToImmutable(),
            Datasets = m.Datasets.SetItem(LakeLayout.Dataset, newDataset),
        };
    }

    /// <summary>
    /// Switches a partition to another location once its files have been copied there. The files
    /// left behind become pending deletions; from this commit on the new copy is authoritative.
    /// </summary>
    public static LakeManifest MovePartition(this LakeManifest m, DateOnly date, LakeLocation from, LakeLocation to, IReadOnlySet<string> copied, DateTimeOffset now, DateTimeOffset deleteAfter)
    {
        var key = LakeLayout.DateKey(date);
        if (m.Metrics.Partitions.GetValueOrDefault(key) is not { } partition)
            throw new ManifestConflictException($"Partition {key} is not in the manifest.");
        if (partition.Location != from)
            throw new ManifestConflictException($"Partition {key} is {partition.Location}, not {from}.");
        var current = m.Files().Where(f => f.Date == date).Select(f => f.RelativePath).ToHashSet(StringComparer.Ordinal);
        if (!current.SetEquals(copied))
            throw new ManifestConflictException($"Partition {key} changed while it was being copied to {to}; the move will be retried.");
        var left = m.Files().Where(f => f.Date == date).Select(f => new PendingDeletion(from, f.RelativePath, deleteAfter));
        var dataset = m.Metrics with { Partitions = m.Metrics.Partitions.SetItem(key, partition with { Location = to, UpdatedAt = now }) };
        return m with
        {
            CommitSeq = m.CommitSeq + 1,
            UpdatedAt = now,
            PendingDeletions = m.PendingDeletions.AddRange(left),
            Datasets = m.Datasets.SetItem(LakeLayout.Dataset, dataset),
        };
    }

    /// <summary>
    /// Records that a day differs from PostgreSQL and is to be rebuilt from it; the rebuild's
    /// commit takes the mark away. A later finding replaces an earlier one. No file changes, so no commit.
    /// </summary>
    public static LakeManifest MarkForRebuild(this LakeManifest m, DateOnly day, RebuildMark mark, DateTimeOffset now)
    {
        var marks = (m.Metrics.DaysToRebuild ?? ImmutableSortedDictionary<string, RebuildMark>.Empty).SetItem(LakeLayout.DateKey(day), mark);
        return m with { UpdatedAt = now, Datasets = m.Datasets.SetItem(LakeLayout.Dataset, m.Metrics with { DaysToRebuild = marks }) };
    }

    /// <summary>Drops a partition from a hot-only lake past the horizon, recording that it expired.</summary>
    public static LakeManifest ExpirePartition(this LakeManifest m, DateOnly date, DateTimeOffset now, DateTimeOffset deleteAfter)
    {
        var key = LakeLayout.DateKey(date);
        if (m.Metrics.Partitions.GetValueOrDefault(key) is not { } partition)
            throw new ManifestConflictException($"Partition {key} is not in the manifest.");
        var files = m.Files().Where(f => f.Date == date).Select(f => new PendingDeletion(partition.Location, f.RelativePath, deleteAfter));
        var expired = (m.Metrics.ExpiredPartitions ?? ImmutableSortedDictionary<string, ExpiredPartition>.Empty)
            .SetItem(key, new ExpiredPartition(now, partition.FileCount, partition.Rows, partition.Bytes));
        var dataset = m.Metrics with { Partitions = m.Metrics.Partitions.Remove(key), ExpiredPartitions = expired, DaysToRebuild = m.Metrics.DaysToRebuild?.Remove(key) };
        return m with
        {
            CommitSeq = m.CommitSeq + 1,
            UpdatedAt = now,
            PendingDeletions = m.PendingDeletions.AddRange(files),
            Datasets = m.Datasets.SetItem(LakeLayout.Dataset, dataset),
        };
    }

    private static PartitionState? Recount(PartitionState p, DateTimeOffset now)
    {
        var shards = p.Shards.Where(s => s.Value.Files.Count > 0).ToImmutableSortedDictionary();
        var all = shards.Values.SelectMany(s => s.Files).ToList();
        if (all.Count == 0) return null;
        return p with
        {
            Shards = shards,
            FileCount = all.Count,
            Rows = all.Sum(f => f.Rows),
            Bytes = all.Sum(f => f.Bytes),
            UpdatedAt = now,
        };
    }

    /// <summary>Pending deletions whose grace period has passed, and the manifest without them.</summary>
    public static (LakeManifest Manifest, IReadOnlyList<PendingDeletion> Due) TakeDueDeletions(this LakeManifest m, DateTimeOffset now)
    {
        var due = m.PendingDeletions.Where(d => d.DueAt <= now).ToList();
        return due.Count == 0 ? (m, due) : (m with { PendingDeletions = m.PendingDeletions.RemoveRange(due), UpdatedAt = now }, due);
    }

    /// <summary>
    /// Lake-relative paths of the files the manifest still needs in a location: committed files,
    /// and files awaiting deletion under their superseded names.
    /// </summary>
    public static ISet<string> ReferencedPaths(this LakeManifest m, LakeLocation location)
    {
        var paths = CommittedPaths(m, location);
        foreach (var d in m.PendingDeletions)
            if (d.Location == location)
                paths.Add(d.SupersededPath);
        return paths;
    }

    /// <summary>Lake-relative paths of the committed files in a location: what readers should see.</summary>
    public static HashSet<string> CommittedPaths(this LakeManifest m, LakeLocation location)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in m.Files())
            if (f.Location == location)
                paths.Add(f.RelativePath);
        return paths;
    }
}
