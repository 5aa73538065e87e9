using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using Xunit;

namespace AkkaLake.Core.Tests.Manifest;

public class ManifestEditsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 11, 24);

    internal static PartFile File(string name, long rows = 10, long bytes = 1000) =>
        new(name, rows, bytes, T0.AddDays(-1), T0.AddDays(-1).AddHours(1), T0.AddHours(-1), T0, 0, "R1");

    private static LakeCommit Replication(DateTimeOffset? watermark, params FileAdd[] adds) =>
        new(CommitKind.Replication, "R1", [.. adds], [], watermark);

    [Fact]
    public void A_commit_adds_files_advances_the_watermark_and_counts_per_partition()
    {
        var m = LakeManifest.Create(16, T0).Apply(
            Replication(T0, new FileAdd(Day, 3, LakeLocation.Hot, File("part-a.parquet")), new FileAdd(Day, 5, LakeLocation.Hot, File("part-b.parquet", 5, 500))),
            T0.AddSeconds(1), T0);
        Assert.Equal(1, m.CommitSeq);
        Assert.Equal(T0, m.Metrics.ComputedThroughTs);
        var p = m.Metrics.Partitions["2026-11-24"];
        Assert.Equal((LakeLocation.Hot, 2, 15L, 1500L), (p.Location, p.FileCount, p.Rows, p.Bytes));
        Assert.Equal(T0.AddSeconds(1), p.UpdatedAt);
        Assert.Null(p.LastCompactedAt);
        Assert.Equal(["03", "05"], p.Shards.Keys);
        Assert.All(m.Files(), f => Assert.Equal(1, f.File.CommitSeq));
        Assert.Equal("metrics/v1/date=2026-11-24/shard=03/part-a.parquet", m.Files().First().RelativePath);
    }

    [Fact]
    public void A_day_marked_for_rebuild_stays_marked_until_a_rebuild_planned_after_the_finding_commits()
    {
        var found = T0.AddMinutes(10);
        var m = LakeManifest.Create(4, T0).MarkForRebuild(Day, new RebuildMark(found, "2 shards differ"), T0.AddMinutes(11));
        Assert.Equal(0, m.CommitSeq);
        Assert.Equal(["2026-11-24"], m.Metrics.DaysToRebuild!.Keys);

        LakeCommit Rebuild(DateTimeOffset plannedAt) => new(CommitKind.Backfill, "B1", [], [], Rebuilt: (Day, plannedAt));
        // A rebuild planned before the finding read the day before the difference was seen: the mark stays.
        Assert.Single(m.Apply(Rebuild(found.AddSeconds(-1)), T0.AddMinutes(12), T0).Metrics.DaysToRebuild!);
        Assert.Empty(m.Apply(Rebuild(found), T0.AddMinutes(12), T0).Metrics.DaysToRebuild!);
        // Other commits leave it, and another day's rebuild too.
        Assert.Single(m.Apply(Replication(T0), T0, T0).Metrics.DaysToRebuild!);
        Assert.Single(m.Apply(new LakeCommit(CommitKind.Backfill, "B2", [], [], Rebuilt: (Day.AddDays(-1), found)), T0, T0).Metrics.DaysToRebuild!);
    }

    [Fact]
    public void The_watermark_never_moves_back()
    {
        var m = LakeManifest.Create(16, T0).Apply(Replication(T0), T0, T0);
        Assert.Throws<ManifestConflictException>(() => m.Apply(Replication(T0.AddSeconds(-1)), T0, T0));
        Assert.Equal(T0, m.Apply(Replication(null), T0, T0).Metrics.ComputedThroughTs);
    }

    [Fact]
    public void A_compaction_swaps_inputs_for_output_and_schedules_the_inputs_for_deletion()
    {
        var m = LakeManifest.Create(4, T0).Apply(Replication(T0,
            new FileAdd(Day, 1, LakeLocation.Hot, File("part-a.parquet")),
            new FileAdd(Day, 1, LakeLocation.Hot, File("part-b.parquet"))), T0, T0);
        var compaction = new LakeCommit(CommitKind.Compaction, "C1",
            [new FileAdd(Day, 1, LakeLocation.Hot, File("compact-c.parquet", 20, 1800))],
            [new FileRemove(Day, 1, "part-a.parquet"), new FileRemove(Day, 1, "part-b.parquet")]);
        var after = m.Apply(compaction, T0.AddMinutes(1), T0.AddMinutes(6));
        var p = after.Metrics.Partitions["2026-11-24"];
        Assert.Equal(["compact-c.parquet"], p.Shards["01"].Files.Select(f => f.Name));
        Assert.Equal((1, 20L), (p.FileCount, p.Rows));
        Assert.Equal(T0.AddMinutes(1), p.LastCompactedAt);
        Assert.Equal(2, after.PendingDeletions.Count);
        Assert.All(after.PendingDeletions, d => Assert.Equal(T0.AddMinutes(6), d.DueAt));

        // The same compaction again no longer fits: its inputs are gone.
        Assert.Throws<ManifestConflictException>(() => after.Apply(compaction, T0, T0));

        var (notYet, none) = after.TakeDueDeletions(T0.AddMinutes(5));
        Assert.Empty(none);
        Assert.Same(after, notYet);
        var (done, due) = after.TakeDueDeletions(T0.AddMinutes(6));
        Assert.Equal(2, due.Count);
        Assert.Empty(done.PendingDeletions);
    }

    [Fact]
    public void Removing_every_file_of_a_partition_removes_the_partition()
    {
        var m = LakeManifest.Create(4, T0).Apply(Replication(T0, new FileAdd(Day, 0, LakeLocation.Hot, File("part-a.parquet"))), T0, T0);
        var after = m.Apply(new LakeCommit(CommitKind.Compaction, "C", [], [new FileRemove(Day, 0, "part-a.parquet")]), T0, T0);
        Assert.Empty(after.Metrics.Partitions);
    }

    [Fact]
    public void Adding_a_file_twice_or_to_a_partition_in_another_location_is_a_conflict()
    {
        var m = LakeManifest.Create(4, T0).Apply(Replication(T0, new FileAdd(Day, 0, LakeLocation.Hot, File("part-a.parquet"))), T0, T0);
        Assert.Throws<ManifestConflictException>(() => m.Apply(Replication(T0, new FileAdd(Day, 0, LakeLocation.Hot, File("part-a.parquet"))), T0, T0));
        Assert.Throws<ManifestConflictException>(() => m.Apply(Replication(T0, new FileAdd(Day, 1, LakeLocation.Cold, File("part-b.parquet"))), T0, T0));
        Assert.Throws<ArgumentException>(() => m.Apply(Replication(T0, new FileAdd(Day, 4, LakeLocation.Hot, File("part-c.parquet"))), T0, T0));
    }

    [Fact]
    public void A_pending_commit_must_follow_the_sequence_and_only_one_may_be_open()
    {
        var m = LakeManifest.Create(4, T0);
        var pending = new PendingCommit(1, CommitKind.Replication, "R1", T0, [new FileLocation(LakeLocation.Hot, "metrics/v1/x")]);
        var begun = m.Begin(pending);
        Assert.Equal(pending, begun.PendingCommit);
        Assert.Throws<ManifestConflictException>(() => begun.Begin(pending with { CommitSeq = 2 }));
        Assert.Throws<ManifestConflictException>(() => m.Begin(pending with { CommitSeq = 5 }));
        Assert.Null(begun.Apply(Replication(T0), T0, T0).PendingCommit);
        Assert.Null(begun.AbandonPending(T0).PendingCommit);
    }

    [Fact]
    public void Referenced_paths_include_files_awaiting_deletion_in_that_location_only()
    {
        var m = LakeManifest.Create(4, T0).Apply(Replication(T0,
            new FileAdd(Day, 0, LakeLocation.Hot, File("part-a.parquet")),
            new FileAdd(Day.AddDays(-100), 0, LakeLocation.Cold, File("part-old.parquet"))), T0, T0);
        m = m with { PendingDeletions = ImmutableList.Create(new PendingDeletion(LakeLocation.Hot, "metrics/v1/gone.parquet", T0)) };
        Assert.Equal(
            new HashSet<string> { "metrics/v1/date=2026-11-24/shard=00/part-a.parquet", "metrics/v1/gone.parquet.superseded" },
            m.ReferencedPaths(LakeLocation.Hot));
        Assert.Single(m.ReferencedPaths(LakeLocation.Cold));
    }
}
