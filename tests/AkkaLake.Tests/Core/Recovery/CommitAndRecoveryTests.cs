using AkkaLake.Testing;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Storage;
using Xunit;

namespace AkkaLake.Core.Tests.Recovery;

public class CommitAndRecoveryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 11, 24);
    private readonly TempDirectory _dir = new();
    private readonly ManifestStore _store;
    private readonly LakeRoots _roots;

    public CommitAndRecoveryTests()
    {
        _store = new ManifestStore(_dir.Combine("hot", "_state"));
        _roots = new LakeRoots(_dir.Combine("hot"), _dir.Combine("cold"));
    }

    public void Dispose() => _dir.Dispose();

    private StagedPart Stage(int shard, string name)
    {
        var rows = new MetricRows();
        rows.Add("s", LakeLayout.StartMicros(Day), 1, null, null, null);
        var meta = new PartMetadata("R1", CommitKind.Replication, null, T0);
        var tmp = LakeLayout.Resolve(_roots.Hot, LakeLayout.FilePath(Day, shard, name)) + ".tmp";
        return new StagedPart(Day, shard, LakeLocation.Hot, name, PartWriter.Write(tmp, rows, meta, 100), meta);
    }

    private LakeManifest CommitTwoParts(IFaultPoints? faults, LakeManifest start)
    {
        var committer = new LakeCommitter(_store, _roots, faults);
        return committer.Commit(start, new LakeCommit(CommitKind.Replication, "R1", [], [], T0), [Stage(0, "part-R1-0000.parquet"), Stage(1, "part-R1-0001.parquet")], T0, TimeSpan.Zero);
    }

    private List<string> PartFiles() =>
        Directory.Exists(_dir.Combine("hot", "metrics")) ? Directory.GetFiles(_dir.Combine("hot", "metrics"), "*", SearchOption.AllDirectories).Select(p => Path.GetFileName(p)).Order().ToList() : [];

    [Fact]
    public void A_commit_publishes_its_parts_and_records_them_with_the_watermark()
    {
        var start = LakeManifest.Create(4, T0);
        _store.Save(start);
        var m = CommitTwoParts(null, start);
        Assert.Equal(["part-R1-0000.parquet", "part-R1-0001.parquet"], PartFiles());
        Assert.Equal(2, _store.Load()!.Files().Count());
        Assert.Equal(T0, _store.Load()!.Metrics.ComputedThroughTs);
        Assert.Null(m.PendingCommit);
    }

    [Theory]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-rename")]
    public void A_commit_that_dies_before_its_manifest_write_is_undone_by_recovery(string point)
    {
        var start = LakeManifest.Create(4, T0);
        _store.Save(start);
        Assert.Throws<IOException>(() => CommitTwoParts(FaultAt.Crash(point), start));
        var onDisk = _store.Load()!;
        Assert.NotNull(onDisk.PendingCommit);

        var (recovered, report) = new LakeRecovery(_store, _roots).Recover(onDisk, T0);

        Assert.Equal(1, report.UndoneCommit!.CommitSeq);
        Assert.Empty(PartFiles());
        Assert.Null(recovered.PendingCommit);
        Assert.Equal(0, recovered.CommitSeq);
        Assert.Null(_store.Load()!.Metrics.ComputedThroughTs);
        // The re-run commits the batch once.
        CommitTwoParts(null, recovered);
        Assert.Equal(2, _store.Load()!.Files().Count());
    }

    [Fact]
    public void A_commit_that_dies_after_its_manifest_write_is_committed_and_recovery_keeps_it()
    {
        var start = LakeManifest.Create(4, T0);
        _store.Save(start);
        Assert.Throws<IOException>(() => CommitTwoParts(FaultAt.Crash("commit.after-manifest"), start));
        var (recovered, report) = new LakeRecovery(_store, _roots).Recover(_store.Load()!, T0);
        Assert.False(report.DidSomething);
        Assert.Equal(2, recovered.Files().Count());
        Assert.Equal(2, PartFiles().Count);
    }

    [Fact]
    public void Recovery_removes_tmp_files_and_unreferenced_parts_but_not_foreign_files_or_files_in_grace()
    {
        var m = LakeManifest.Create(4, T0);
        _store.Save(m);
        m = CommitTwoParts(null, m);
        var shardDir = LakeLayout.Resolve(_roots.Hot, LakeLayout.ShardDirectory(Day, 0));
        File.WriteAllText(Path.Combine(shardDir, "part-X-0000.parquet.tmp"), "half");
        File.WriteAllText(Path.Combine(shardDir, "part-X-0000.parquet"), "orphan");
        File.WriteAllText(Path.Combine(shardDir, "README.txt"), "someone's notes");
        File.WriteAllText(Path.Combine(shardDir, "evil.parquet"), "someone else's file");
        var coldDir = LakeLayout.Resolve(_roots.Cold!, LakeLayout.ShardDirectory(Day.AddDays(-100), 0));
        Directory.CreateDirectory(coldDir);
        File.WriteAllText(Path.Combine(coldDir, "backfill-Y-0000.parquet"), "half-copied cold file");
        m = m.Apply(new LakeCommit(CommitKind.Compaction, "C", [], [new FileRemove(Day, 1, "part-R1-0001.parquet")]), T0, T0.AddMinutes(5));
        _store.Save(m);
        File.WriteAllText(Path.Combine(_store.StatePath, "manifest.json.tmp"), "{");

        var (_, report) = new LakeRecovery(_store, _roots).Recover(m, T0);

        Assert.Equal(2, report.RemovedTmpFiles.Count);
        Assert.Equal(2, report.RemovedUnreferencedParts.Count);
        // The file awaiting deletion (as a lake written before superseded files were renamed left it) leaves the readers' namespace.
        Assert.Equal(["evil.parquet", "part-R1-0000.parquet", "part-R1-0001.parquet.superseded", "README.txt"], PartFiles().Order(StringComparer.OrdinalIgnoreCase));
        Assert.Contains(report.Warnings, w => w.Contains("evil.parquet", StringComparison.Ordinal) && w.Contains("not written by AkkaLake", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(coldDir, "backfill-Y-0000.parquet")));

        var (afterGrace, later) = new LakeRecovery(_store, _roots).Recover(_store.Load()!, T0.AddMinutes(5));
        Assert.Single(later.DeletedDueFiles);
        Assert.Empty(afterGrace.PendingDeletions);
        Assert.Equal(["evil.parquet", "part-R1-0000.parquet", "README.txt"], PartFiles().Order(StringComparer.OrdinalIgnoreCase));
    }
}
