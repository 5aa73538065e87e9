using AkkaLake.Testing;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Core.Tests.Compaction;

public class CompactionTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateOnly Today = LakeFixture.Today;
    private readonly LakeFixture _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IEnumerable<(string, long, double)> Readings(int tick, int sensors = 20, double offset = 0) =>
        Enumerable.Range(0, sensors).Select(s => ($"sensor-{s:D3}", LakeLayout.StartMicros(Today) + tick * 60_000_000L, s + tick + offset));

    private static DateTime MinuteOfToday(int minute) => Today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddMinutes(minute);

    private MergeResult Run(CompactionJob job, IFaultPoints? faults = null, long target = 256L << 20)
    {
        var result = new PartMerger(_lake.Roots, chunkRows: 7, rowGroupRows: 100).Merge(job, RunId.New(LakeFixture.T0), target);
        (faults ?? FaultPoints.None).Hit("compaction.before-commit");
        _lake.Manifest = new LakeCommitter(_lake.Store, _lake.Roots, faults).Commit(_lake.Manifest,
            new LakeCommit(CommitKind.Compaction, "C", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, job.Shard, f.Name))]),
            result.Outputs, LakeFixture.T0, TimeSpan.Zero);
        return result;
    }

    private void CompactFully(DateOnly today)
    {
        while (CompactionPlanner.Plan(_lake.Manifest, today, CompactionPolicy.Default).FirstOrDefault() is { } job) Run(job);
    }

    /// <summary>Part files of today's shard 0, oldest first, holding these many rows (and as many kilobytes), each two minutes of readings.</summary>
    private static List<PartFile> Parts(params long[] rows) =>
        rows.Select((r, i) => new PartFile($"part-{i:D3}.parquet", r, r * 1024, LakeFixture.T0.AddMinutes(2 * i), LakeFixture.T0.AddMinutes(2 * i + 2), null, null, i + 1, $"R{i}")).ToList();

    private static CompactionJob? PlanToday(IReadOnlyList<PartFile> files, CompactionPolicy? policy = null) =>
        CompactionPlanner.PlanShardDay(Today, 0, LakeLocation.Hot, files, Today, policy ?? CompactionPolicy.Default);

    [Fact]
    public void Planner_merges_the_newest_files_once_three_of_similar_size_line_up()
    {
        Assert.Null(PlanToday(Parts(60, 20)));
        var job = PlanToday(Parts(40, 20, 20));
        Assert.NotNull(job);
        Assert.Equal(["part-000.parquet", "part-001.parquet", "part-002.parquet"], job.Inputs.Select(f => f.Name));
        Assert.Equal(1, job.OutputLevel);

        // A big older file is left alone until the newer ones together hold as many rows.
        Assert.Equal(["part-001.parquet", "part-002.parquet", "part-003.parquet"], PlanToday(Parts(100, 20, 20, 20))!.Inputs.Select(f => f.Name));
        Assert.Null(PlanToday(Parts(100, 60, 20)));
    }

    [Fact]
    public void Todays_open_head_is_left_to_replication_to_absorb_and_counts_against_the_budget()
    {
        var parts = Parts(40, 20, 20);
        // The newest part spans under a minute: the next batch absorbs it.
        var head = parts[^1] with { MinTs = LakeFixture.T0.AddMinutes(10), MaxTs = LakeFixture.T0.AddMinutes(10).AddSeconds(50) };
        parts[^1] = head;
        Assert.Equal(head, LiveLayout.OpenHead(parts));
        Assert.Null(PlanToday(parts));
        Assert.Null(LiveLayout.OpenHead(Parts(40, 20)));
        // A finished day's last part is merged with the rest.
        Assert.Contains(head, CompactionPlanner.PlanShardDay(Today.AddDays(-1), 0, LakeLocation.Hot, parts, Today, CompactionPolicy.Default)!.Inputs);
    }

    [Fact]
    public void Planner_keeps_a_shard_day_within_the_file_budget_by_merging_the_two_smallest_neighbours()
    {
        // Halving sizes never form a tier, so only the budget rule can act.
        var halving = Enumerable.Range(0, 11).Select(i => 1L << (12 - i)).ToArray();
        Assert.Null(PlanToday(Parts(halving[..10])));
        var job = PlanToday(Parts(halving));
        Assert.NotNull(job);
        Assert.Equal(["part-009.parquet", "part-010.parquet"], job.Inputs.Select(f => f.Name));

        // The smallest neighbours need not be the newest: a contiguous run keeps "newest wins" intact.
        var job2 = PlanToday(Parts(4096, 2048, 1024, 512, 256, 128, 2, 1, 100, 50, 30));
        Assert.Equal(["part-006.parquet", "part-007.parquet"], job2!.Inputs.Select(f => f.Name));
    }

    [Fact]
    public void Planner_leaves_final_files_and_files_at_the_size_target_alone()
    {
        var backfilled = Parts(20, 20, 20);
        backfilled[0] = backfilled[0] with { Level = PartFile.FinalLevel };
        Assert.Null(PlanToday(backfilled));

        // Outputs that rolled over at the size target are not merged again, even over the budget.
        Assert.Null(PlanToday(Parts(Enumerable.Repeat(20L, 12).ToArray()), CompactionPolicy.Default with { TargetFileBytes = 20 * 1024 }));
    }

    [Fact]
    public void Planner_merges_a_finished_day_into_its_final_file_but_leaves_one_or_two_alone()
    {
        _lake.Tick(Today, Readings(0));
        _lake.Tick(Today, Readings(1));
        Assert.Empty(CompactionPlanner.Plan(_lake.Manifest, Today.AddDays(1), CompactionPolicy.Default));
        _lake.Tick(Today, Readings(2));
        var job = Assert.Single(CompactionPlanner.Plan(_lake.Manifest, Today.AddDays(1), CompactionPolicy.Default));
        Assert.Equal(PartFile.FinalLevel, job.OutputLevel);
        Assert.Equal(3, job.Inputs.Count);
    }

    [Fact]
    public void More_than_ten_parts_compact_to_one_with_identical_content_minus_superseded_upsert_versions()
    {
        for (var t = 0; t < 11; t++) _lake.Tick(Today, Readings(t));
        // An upsert: ticks 3 and 7 arrive again with new values in a later commit.
        _lake.Tick(Today, Readings(3, offset: 1000).Concat(Readings(7, offset: 1000)));
        var before = _lake.Rows();
        Assert.Equal(12, _lake.Manifest.Files().Count());

        var job = CompactionPlanner.Force(_lake.Manifest, Today, 0).Single();
        var result = Run(job);

        Assert.Single(_lake.Manifest.Files());
        Assert.Equal(40, result.SupersededRows);
        var after = _lake.Rows();
        var expected = before
            .GroupBy(r => (r.SensorId, r.Ts))
            .Select(g => g.OrderByDescending(r => r.Value >= 1000).First())
            .OrderBy(r => r.SensorId, StringComparer.Ordinal).ThenBy(r => r.Ts)
            .Select(r => (r.SensorId, r.Ts, r.Value)).ToList();
        Assert.Equal(expected, after.Select(r => (r.SensorId, r.Ts, r.Value)).ToList());
        Assert.All(after.Where(r => r.Ts == MinuteOfToday(3)), r => Assert.True(r.Value >= 1000));
        Assert.NotNull(_lake.Manifest.Metrics.Partitions[LakeLayout.DateKey(Today)].LastCompactedAt);
        Assert.Equal(12, _lake.Manifest.PendingDeletions.Count);
    }

    [Fact]
    public void A_newer_part_committed_while_a_merge_ran_still_wins_over_the_merge_output()
    {
        for (var t = 0; t < 4; t++) _lake.Tick(Today, Readings(t));
        var job = CompactionPlanner.Plan(_lake.Manifest, Today, CompactionPolicy.Default).Single();
        var merged = new PartMerger(_lake.Roots).Merge(job, "C1", 1L << 30);
        _lake.Tick(Today, Readings(2, offset: 500));
        _lake.Manifest = new LakeCommitter(_lake.Store, _lake.Roots).Commit(_lake.Manifest,
            new LakeCommit(CommitKind.Compaction, "C1", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, 0, f.Name))]), merged.Outputs, LakeFixture.T0, TimeSpan.Zero);

        CompactionPlanner.Force(_lake.Manifest, Today, 0).ToList().ForEach(j => Run(j));

        Assert.All(_lake.Rows().Where(r => r.Ts == MinuteOfToday(2)), r => Assert.True(r.Value >= 500));
    }

    [Fact]
    public void Outputs_roll_over_at_the_size_target_and_stay_sorted_and_complete()
    {
        for (var t = 0; t < 4; t++) _lake.Tick(Today, Readings(t, sensors: 500));
        var job = CompactionPlanner.Force(_lake.Manifest, Today, 0).Single();
        var result = Run(job, target: 1);
        Assert.True(result.Outputs.Count > 1);
        Assert.Equal(2000, _lake.Rows().Count);
        var keys = _lake.Manifest.Files().OrderBy(f => f.File.Name, StringComparer.Ordinal).SelectMany(f =>
            Testing.LakeDuckDb.ReadFile(_lake.Roots.Resolve(f.Location, f.RelativePath))).Select(r => (r.SensorId, r.Ts)).ToList();
        Assert.Equal(keys.OrderBy(k => k.SensorId, StringComparer.Ordinal).ThenBy(k => k.Ts), keys);
    }

    [Theory]
    [InlineData("compaction.before-commit")]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-rename")]
    [InlineData("commit.after-manifest")]
    public void A_crash_at_any_step_of_a_compaction_recovers_with_no_row_lost_or_doubled(string point)
    {
        for (var t = 0; t < 11; t++) _lake.Tick(Today, Readings(t));
        var expected = _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList();
        var job = CompactionPlanner.Force(_lake.Manifest, Today, 0).Single();

        Assert.Throws<InjectedFault>(() => Run(job, new FaultAt(point)));
        _lake.Restart();

        Assert.Equal(expected, _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList());
        Assert.True(_lake.DiskMatchesManifest());
        Assert.Equal(point == "commit.after-manifest" ? 1 : 11, _lake.Manifest.Files().Count());
    }

    [Fact]
    public void A_simulated_day_of_ticks_stays_within_the_file_budget_with_few_rewrites_per_row()
    {
        const int ticks = 288;
        var policy = CompactionPolicy.Default;
        long compactionBytes = 0, rowsRewritten = 0;
        var maxFiles = 0;
        void Compact(DateOnly today)
        {
            while (CompactionPlanner.Plan(_lake.Manifest, today, policy).FirstOrDefault() is { } job)
            {
                var merged = Run(job);
                compactionBytes += merged.Outputs.Sum(o => o.Written.Bytes);
                rowsRewritten += merged.RowsOut;
            }
        }
        for (var t = 0; t < ticks; t++)
        {
            _lake.Tick(Today, Readings(t, sensors: 50));
            Compact(Today);
            maxFiles = Math.Max(maxFiles, _lake.Manifest.Files().Count());
        }
        // The day ends: the finished-day rule merges it once more.
        Compact(Today.AddDays(1));

        var perRow = (double)rowsRewritten / (ticks * 50);
        var amplification = (double)compactionBytes / _lake.Manifest.Files().Sum(f => f.File.Bytes);
        output.WriteLine($"{ticks} ticks: each row rewritten {perRow:0.00} times, compaction wrote {amplification:0.00} x the bytes at rest, at most {maxFiles} files, {_lake.Manifest.Files().Count()} at rest");
        Assert.True(maxFiles <= policy.MaxFiles, $"{maxFiles} files");
        // Base-4 tiers (ceil(log4 288) = 5 levels) plus the final merge would rewrite each row up to 6 times.
        Assert.InRange(perRow, 1, 6);
        Assert.InRange(_lake.Manifest.Files().Count(), 1, policy.RestFiles);
        Assert.Equal(ticks * 50, _lake.Rows().Count);
    }

    private sealed class InjectedFault(string point) : Exception(point);

    private sealed class FaultAt(string point) : IFaultPoints
    {
        public void Hit(string name)
        {
            if (name == point) throw new InjectedFault(name);
        }
    }
}
