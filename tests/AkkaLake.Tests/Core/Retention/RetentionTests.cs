using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Retention;
using AkkaLake.Core.Storage;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Retention;

public class RetentionTests : IDisposable
{
    private static readonly DateOnly Today = new(2026, 11, 25);
    private readonly LakeFixture _lake = new();

    public void Dispose() => _lake.Dispose();

    private void Fill(DateOnly day, int files = 2)
    {
        for (var f = 0; f < files; f++)
            _lake.Tick(day, Enumerable.Range(0, 10).Select(s => ($"s{s}", LakeLayout.StartMicros(day) + f * 1_000_000L, (double)s)));
    }

    [Fact]
    public void Partitions_past_the_horizon_move_to_cold_or_expire_without_a_cold_path()
    {
        Fill(Today.AddDays(-91));
        Fill(Today.AddDays(-90));
        var withCold = RetentionPlanner.Plan(_lake.Manifest, Today, 90, hasColdPath: true, null);
        Assert.Equal([new RetentionAction.MoveToCold(Today.AddDays(-91), "older than 90 days")], withCold.Actions);
        var hotOnly = RetentionPlanner.Plan(_lake.Manifest, Today, 90, hasColdPath: false, null);
        Assert.IsType<RetentionAction.Expire>(Assert.Single(hotOnly.Actions));
    }

    [Fact]
    public void Past_the_hot_budget_the_oldest_partitions_move_early_but_never_today_and_never_deleted()
    {
        Fill(Today.AddDays(-3));
        Fill(Today.AddDays(-2));
        Fill(Today);
        var bytes = _lake.Manifest.Metrics.Partitions.Values.Sum(p => p.Bytes);
        var plan = RetentionPlanner.Plan(_lake.Manifest, Today, 90, hasColdPath: true, hotMaxBytes: 1);
        Assert.Equal([Today.AddDays(-3), Today.AddDays(-2)], plan.Actions.Select(a => a.Date));
        Assert.True(plan.OverBudget);
        var hotOnly = RetentionPlanner.Plan(_lake.Manifest, Today, 90, hasColdPath: false, hotMaxBytes: 1);
        Assert.Empty(hotOnly.Actions);
        Assert.True(hotOnly.OverBudget);
        Assert.Equal(bytes, hotOnly.HotBytes);
        Assert.False(RetentionPlanner.Plan(_lake.Manifest, Today, 90, true, bytes).OverBudget);
    }

    private void Move(DateOnly day, IFaultPoints? faults = null)
    {
        var copier = new PartitionCopier(_lake.Roots, faults);
        var copied = copier.Copy(_lake.Manifest, day, LakeLocation.Hot, LakeLocation.Cold);
        _lake.Manifest = new LakeCommitter(_lake.Store, _lake.Roots, faults).Switch(_lake.Manifest,
            _lake.Manifest.MovePartition(day, LakeLocation.Hot, LakeLocation.Cold, copied, LakeFixture.T0, LakeFixture.T0),
            CommitKind.Move, "M", copier.Publications(copied, LakeLocation.Cold), LakeFixture.T0);
        faults?.Hit("move.after-manifest");
    }

    [Theory]
    [InlineData("move.after-copy-file")]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-rename")]
    [InlineData("commit.after-retire")]
    [InlineData("move.after-manifest")]
    public void A_crash_at_any_step_of_a_move_leaves_one_authoritative_copy_and_loses_nothing(string point)
    {
        var day = Today.AddDays(-100);
        Fill(day, files: 3);
        var expected = _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList();

        Assert.Throws<IOException>(() => Move(day, FaultAt.Crash(point)));
        _lake.Restart();

        var location = _lake.Manifest.Partition(day)!.Location;
        Assert.Equal(point == "move.after-manifest" ? LakeLocation.Cold : LakeLocation.Hot, location);
        Assert.Equal(expected, _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList());
        Assert.True(_lake.DiskMatchesManifest());
    }

    [Fact]
    public void A_completed_move_deletes_the_hot_copy_only_after_the_commit_and_its_grace()
    {
        var day = Today.AddDays(-100);
        Fill(day);
        var hotFiles = _lake.Manifest.Files().Select(f => _lake.Roots.Resolve(LakeLocation.Hot, f.RelativePath)).ToList();
        Move(day);
        // Out of the readers' namespace at the commit, kept for scans that opened them until the grace ends.
        Assert.All(hotFiles, f => Assert.False(File.Exists(f)));
        Assert.All(hotFiles, f => Assert.True(File.Exists(f + LakeLayout.SupersededSuffix)));
        _lake.Restart();
        Assert.All(hotFiles, f => Assert.False(File.Exists(f + LakeLayout.SupersededSuffix)));
        Assert.Equal(20, _lake.Rows().Count);
    }

    [Fact]
    public void A_partition_that_changed_while_it_was_copied_is_not_switched()
    {
        var day = Today.AddDays(-100);
        Fill(day);
        var copied = new PartitionCopier(_lake.Roots).Copy(_lake.Manifest, day, LakeLocation.Hot, LakeLocation.Cold);
        Fill(day, files: 1);
        Assert.Throws<ManifestConflictException>(() => _lake.Manifest.MovePartition(day, LakeLocation.Hot, LakeLocation.Cold, copied, LakeFixture.T0, LakeFixture.T0));
    }

    [Fact]
    public void An_unavailable_cold_path_is_a_clear_error_and_the_partition_stays_hot()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = Today.AddDays(-100);
        lake.Tick(day, [("s", LakeLayout.StartMicros(day), 1.0)]);
        var missing = new LakeRoots(lake.Roots.Hot, "/nonexistent/nas/lake");
        var e = Assert.Throws<LocationUnavailableException>(() => new PartitionCopier(missing).Copy(lake.Manifest, day, LakeLocation.Hot, LakeLocation.Cold));
        Assert.Contains("is the NAS mounted", e.Message);
        Assert.Equal(LakeLocation.Hot, lake.Manifest.Partition(day)!.Location);
    }

    [Fact]
    public void A_cold_path_that_goes_away_during_the_copy_is_a_clear_error_and_nothing_is_switched()
    {
        var day = Today.AddDays(-100);
        Fill(day, files: 3);
        var expected = _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList();

        // The NAS drops out after the first file: copying on would recreate its directories on the local disk.
        var unmount = new FaultAt("move.after-copy-file", () => Directory.Delete(_lake.Roots.Cold!, recursive: true));
        var e = Assert.Throws<LocationUnavailableException>(() => Move(day, unmount));
        Assert.Contains("went away during the copy", e.Message);
        Assert.False(Directory.Exists(_lake.Roots.Cold));
        Assert.Equal(LakeLocation.Hot, _lake.Manifest.Partition(day)!.Location);

        // Back again, the move completes and nothing was lost on the way.
        Directory.CreateDirectory(_lake.Roots.Cold!);
        _lake.Restart();
        Move(day);
        Assert.Equal(LakeLocation.Cold, _lake.Manifest.Partition(day)!.Location);
        Assert.Equal(expected, _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList());
    }

    [Fact]
    public void A_copy_that_vanishes_before_the_move_is_committed_is_caught_by_the_final_check()
    {
        var day = Today.AddDays(-100);
        Fill(day, files: 2);
        var first = true;
        var lose = new FaultAt("move.after-copy-file", () =>
        {
            if (!first) return;
            first = false;
            foreach (var f in Directory.GetFiles(_lake.Roots.Cold!, "*.parquet.tmp", SearchOption.AllDirectories)) File.Delete(f);
        });
        var e = Assert.Throws<LocationUnavailableException>(() => Move(day, lose));
        Assert.Contains("is no longer there", e.Message);
        Assert.Equal(LakeLocation.Hot, _lake.Manifest.Partition(day)!.Location);
    }

    [Fact]
    public void An_empty_mount_point_where_the_cold_path_was_is_refused_for_moves_and_for_new_cold_parts()
    {
        var old = Today.AddDays(-100);
        Fill(old);
        Move(old);
        Assert.True(ColdMarker.IsPresent(_lake.Roots.Cold!));

        // The NAS is not mounted: the mount point is an empty local directory.
        Directory.Delete(_lake.Roots.Cold!, recursive: true);
        Directory.CreateDirectory(_lake.Roots.Cold!);
        var older = Today.AddDays(-101);
        Fill(older);
        var e = Assert.Throws<LocationUnavailableException>(() => Move(older));
        Assert.Contains("empty mount point", e.Message);
        Assert.Throws<LocationUnavailableException>(() => _lake.Tick(old, [("s", LakeLayout.StartMicros(old), 1.0)], LakeLocation.Cold));
        Assert.Empty(Directory.GetFiles(_lake.Roots.Cold!, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public void An_expired_partition_leaves_the_manifest_is_recorded_and_its_files_go_after_the_grace()
    {
        var day = Today.AddDays(-100);
        Fill(day);
        Fill(Today);
        _lake.Manifest = new LakeCommitter(_lake.Store, _lake.Roots).Switch(_lake.Manifest,
            _lake.Manifest.ExpirePartition(day, LakeFixture.T0, LakeFixture.T0), CommitKind.Expiry, "E", [], LakeFixture.T0);
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(_lake.Roots.Hot, "metrics/v1"), "*.parquet", SearchOption.AllDirectories),
            f => f.Contains(LakeLayout.DateKey(day), StringComparison.Ordinal));
        Assert.Null(_lake.Manifest.Partition(day));
        Assert.Equal(20, _lake.Manifest.Metrics.ExpiredPartitions![LakeLayout.DateKey(day)].Rows);
        _lake.Restart();
        Assert.False(Directory.EnumerateFiles(Path.Combine(_lake.Roots.Hot, "metrics/v1", $"date={LakeLayout.DateKey(day)}"), "*", SearchOption.AllDirectories).Any());
        Assert.Equal(20, _lake.Rows().Count);
    }
}
