using AkkaLake.Testing;
using AkkaLake.Core.Recovery;
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

    /// <summary>Two hours of re-sent readings: slices of 30 minutes, the recent zone from 2.5 h before now.</summary>
    private static readonly CompactionPolicy TwoHours = CompactionPolicy.Default with { Horizon = TimeSpan.FromHours(2) };

    /// <summary>Part files of today's shard 0, oldest first from <paramref name="from"/>, holding these many rows (and as many kilobytes), each two minutes of readings.</summary>
    private static List<PartFile> Parts(DateTimeOffset from, params long[] rows) =>
        rows.Select((r, i) => new PartFile($"part-{i:D3}.parquet", r, r * 1024, from.AddMinutes(2 * i), from.AddMinutes(2 * i + 2).AddTicks(-10), null, null, i + 1, $"R{i}")).ToList();

    /// <summary>Parts from noon, planned a minute after the last ends: all in the slice 12:00-12:30.</summary>
    private static List<PartFile> Parts(params long[] rows) => Parts(LakeFixture.T0, rows);

    private static CompactionJob? PlanToday(IReadOnlyList<PartFile> files, CompactionPolicy? policy = null, DateTimeOffset? now = null) =>
        CompactionPlanner.PlanShardDay(Today, 0, LakeLocation.Hot, files, now ?? files.Max(f => f.MaxTs).AddMinutes(1), policy ?? TwoHours);

    [Fact]
    public void In_a_slice_still_filling_the_newest_files_merge_once_three_of_similar_size_line_up()
    {
        Assert.Null(PlanToday(Parts(60, 20)));
        var job = PlanToday(Parts(40, 20, 20));
        Assert.NotNull(job);
        Assert.Equal(["part-000.parquet", "part-001.parquet", "part-002.parquet"], job.Inputs.Select(f => f.Name));
        Assert.Empty(job.SplitAt);

        // A big older file is left alone until the newer ones together hold as many rows.
        Assert.Equal(["part-001.parquet", "part-002.parquet", "part-003.parquet"], PlanToday(Parts(100, 20, 20, 20))!.Inputs.Select(f => f.Name));
        Assert.Null(PlanToday(Parts(100, 60, 20)));
    }

    [Fact]
    public void A_slice_that_is_over_becomes_one_file_and_never_grows_past_its_span()
    {
        // 12:00-12:30 holds three files; at 12:20 the slice still fills, at 12:32 it is over.
        var parts = Parts(100, 60, 20);
        Assert.Null(PlanToday(parts, now: LakeFixture.T0.AddMinutes(20)));
        var job = PlanToday(parts, now: LakeFixture.T0.AddMinutes(32));
        Assert.Equal(["part-000.parquet", "part-001.parquet", "part-002.parquet"], job!.Inputs.Select(f => f.Name));
        Assert.Equal("slice complete", job.Reason);

        // Files of two slices never merge with each other while they are recent, however alike.
        var twoSlices = Parts(LakeFixture.T0.AddMinutes(24), 20, 20, 20, 20);
        var across = PlanToday(twoSlices, now: LakeFixture.T0.AddMinutes(40));
        Assert.Equal(["part-000.parquet", "part-001.parquet", "part-002.parquet"], across!.Inputs.Select(f => f.Name));
    }

    [Fact]
    public void A_file_reaching_over_several_slices_into_the_recent_zone_is_cut_at_the_slice_boundaries()
    {
        // A backfill of today up to 20:00: with readings re-sent up to two hours late, 17:00-20:00 is cut in 30-minute slices.
        var backfill = new PartFile("backfill-x.parquet", 720_000, 5_000_000, Today.ToDateTime(TimeOnly.MinValue), Today.ToDateTime(new TimeOnly(19, 59, 50)),
            null, null, 1, "B", PartFile.FinalLevel);
        var now = new DateTimeOffset(Today.ToDateTime(new TimeOnly(20, 0, 30)), TimeSpan.Zero);

        var job = PlanToday([backfill], now: now);

        Assert.Equal([backfill], job!.Inputs);
        Assert.Equal([17.5, 18, 18.5, 19, 19.5], job.SplitAt.Select(c => (c - new DateTimeOffset(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)).TotalHours));
        // Without readings seen re-sent later than the default horizon, the day's file stays as written.
        Assert.Null(PlanToday([backfill], CompactionPolicy.Default, now));
    }

    [Fact]
    public void A_live_day_written_whole_is_cut_where_the_planner_would_cut_it_and_then_left_alone()
    {
        var midnight = new DateTimeOffset(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var now = midnight.AddHours(20).AddSeconds(30);
        double[] Hours(IEnumerable<DateTimeOffset> cuts) => [.. cuts.Select(c => (c - midnight).TotalHours)];

        Assert.Equal([17.5, 18, 18.5, 19, 19.5, 20], Hours(TwoHours.SliceCuts(Today, now)));
        Assert.Equal([19 + 40 / 60.0, 19.75, 19 + 50 / 60.0, 19 + 55 / 60.0, 20], Hours(CompactionPolicy.Default.SliceCuts(Today, now)));
        Assert.Empty(CompactionPolicy.Default.SliceCuts(Today.AddDays(-1), now));
        // Ten minutes past midnight the day before is still live: its last slices are cut, and the new day's first.
        Assert.Equal([-10 / 60.0, -5 / 60.0], Hours(CompactionPolicy.Default.SliceCuts(Today.AddDays(-1), midnight.AddMinutes(10))));
        Assert.Equal([5 / 60.0, 10 / 60.0], Hours(CompactionPolicy.Default.SliceCuts(Today, midnight.AddMinutes(10))));

        // Written so (the older part final, a file per slice), the planner has nothing to cut or merge.
        var cuts = TwoHours.SliceCuts(Today, now);
        var files = new List<PartFile> { new("backfill-x-0000.parquet", 630_000, 4_000_000, midnight, cuts[0].AddSeconds(-10), null, null, 1, "B", PartFile.FinalLevel) };
        files.AddRange(cuts.Take(cuts.Count - 1).Select((c, i) => new PartFile($"backfill-x-{100 * (i + 1):D4}.parquet", 18_000, 120_000, c, c.AddMinutes(30).AddSeconds(-10), null, null, 1, "B")));
        Assert.Null(PlanToday(files, TwoHours, now));
    }

    [Fact]
    public void Older_readings_merge_in_size_tiers_above_the_newest_final_file()
    {
        // Files of 00:00-00:08 are old at noon: three of similar size merge, as in a live slice.
        var morning = new DateTimeOffset(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        Assert.Equal(["part-001.parquet", "part-002.parquet", "part-003.parquet"], PlanToday(Parts(morning, 1000, 40, 20, 20), now: LakeFixture.T0)!.Inputs.Select(f => f.Name));
        Assert.Null(PlanToday(Parts(morning, 1000, 60, 20), now: LakeFixture.T0));
        // A backfill's older part stays put: the tiers form above it.
        var backfilled = Parts(morning, 20, 20, 20);
        backfilled[0] = backfilled[0] with { Level = PartFile.FinalLevel };
        Assert.Null(PlanToday(backfilled, now: LakeFixture.T0));
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
        Assert.Contains(head, CompactionPlanner.PlanShardDay(Today.AddDays(-1), 0, LakeLocation.Hot, parts, LakeFixture.T0, CompactionPolicy.Default)!.Inputs);
    }

    [Fact]
    public void A_day_is_live_until_readings_for_it_are_no_longer_expected()
    {
        var midnight = new DateTimeOffset(Today.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var parts = Parts(40, 20, 20, 20);
        Assert.NotEqual("finished day", PlanToday(parts, CompactionPolicy.Default, midnight.AddMinutes(19))?.Reason);
        Assert.Equal("finished day", PlanToday(parts, CompactionPolicy.Default, midnight.AddMinutes(20))!.Reason);
        Assert.NotEqual("finished day", PlanToday(parts, TwoHours, midnight.AddHours(2))?.Reason);
        Assert.Equal("finished day", PlanToday(parts, TwoHours, midnight.AddHours(2.5))!.Reason);
    }

    [Fact]
    public void Planner_keeps_a_shard_day_within_the_file_budget_by_merging_the_two_smallest_neighbours()
    {
        // Halving sizes never form a tier, so only the budget rule can act; it merges in the older part of the day, past the recent zone.
        var halving = Enumerable.Range(0, 11).Select(i => 1L << (12 - i)).ToArray();
        var later = LakeFixture.T0.AddHours(4);
        Assert.Null(PlanToday(Parts(halving[..10]), now: later));
        var job = PlanToday(Parts(halving), now: later);
        Assert.NotNull(job);
        Assert.Equal(["part-009.parquet", "part-010.parquet"], job.Inputs.Select(f => f.Name));
    }

    [Fact]
    public void Over_the_budget_with_nothing_older_to_merge_the_slice_holding_the_most_files_merges()
    {
        // A final older part, four 30-minute slices of one file each, and a slice still filling with five minute files
        // of halving sizes (no tier) and an open head: 11 files, as a backfilled day cut into slices was seen to hold.
        var start = LakeFixture.T0;
        var older = new PartFile("backfill-0.parquet", 100_000, 100_000, start.AddHours(-10), start.AddTicks(-10), null, null, 1, "B", PartFile.FinalLevel);
        var slices = Enumerable.Range(0, 4).Select(i => new PartFile($"compact-{i}.parquet", 20_000, 20_000, start.AddMinutes(30 * i), start.AddMinutes(30 * i + 30).AddTicks(-10), null, null, 2 + i, "C", 1)).ToList();
        var filling = Parts(start.AddMinutes(120), 16, 8, 4, 2, 1);
        var head = new PartFile("part-head.parquet", 1, 1024, start.AddMinutes(130), start.AddMinutes(130).AddSeconds(30), null, null, 99, "H");
        List<PartFile> files = [older, .. slices, .. filling, head];
        var now = head.MaxTs.AddSeconds(1);

        var job = PlanToday(files, now: now);

        Assert.NotNull(job);
        Assert.Equal(filling.Select(f => f.Name), job.Inputs.Select(f => f.Name));
        Assert.Equal("11 files, over the budget of 10", job.Reason);
        Assert.Empty(job.SplitAt);
        Assert.Null(PlanToday([older, .. slices, .. filling[..4], head], now: now));
    }

    [Fact]
    public void Planner_leaves_files_at_the_size_target_alone()
    {
        var morning = Parts(new DateTimeOffset(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), Enumerable.Repeat(20L, 5).ToArray());
        Assert.NotNull(PlanToday(morning, now: LakeFixture.T0));
        Assert.Null(PlanToday(morning, CompactionPolicy.Default with { TargetFileBytes = 20 * 1024 }, LakeFixture.T0));
    }

    [Fact]
    public void Planner_merges_a_finished_day_into_its_final_file_but_leaves_one_or_two_alone()
    {
        var nextDay = LakeFixture.T0.AddDays(1);
        _lake.Tick(Today, Readings(0));
        _lake.Tick(Today, Readings(1));
        Assert.Empty(CompactionPlanner.Plan(_lake.Manifest, nextDay, CompactionPolicy.Default));
        _lake.Tick(Today, Readings(2));
        var job = Assert.Single(CompactionPlanner.Plan(_lake.Manifest, nextDay, CompactionPolicy.Default));
        Assert.Equal(PartFile.FinalLevel, job.OutputLevel);
        Assert.Equal(3, job.Inputs.Count);
    }

    [Fact]
    public void A_cut_writes_each_slice_of_rows_to_its_own_file_and_keeps_every_row()
    {
        for (var t = 0; t < 10; t++) _lake.Tick(Today, Readings(t));
        CompactionPlanner.Force(_lake.Manifest, Today, 0).ToList().ForEach(j => Run(j));
        var before = _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList();
        var whole = _lake.Manifest.Files().Single().File;
        var cuts = new[] { MinuteOfToday(3), MinuteOfToday(7) }.Select(m => new DateTimeOffset(m)).ToList();

        Run(new CompactionJob(Today, 0, LakeLocation.Hot, [whole], whole.Level, "cut") { SplitAt = cuts });

        Assert.Equal(before, _lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList());
        var files = _lake.Manifest.Files().OrderBy(f => f.File.MinTs).Select(f => f.File).ToList();
        Assert.Equal([(0, 2), (3, 6), (7, 9)], files.Select(f => ((int)(f.MinTs - new DateTimeOffset(MinuteOfToday(0))).TotalMinutes, (int)(f.MaxTs - new DateTimeOffset(MinuteOfToday(0))).TotalMinutes)));
        Assert.Equal([60L, 80, 60], files.Select(f => f.Rows));
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
        var job = CompactionPlanner.Plan(_lake.Manifest, LakeFixture.T0, CompactionPolicy.Default).Single();
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

    [Theory]
    [InlineData(15, 8)]
    [InlineData(120, 24)]
    public void A_simulated_day_of_ticks_stays_within_the_file_budget_with_few_rewrites_per_row(int horizonMinutes, int mostRewritesPerRow)
    {
        // A tick every 5 minutes for a day, compacted as it goes at each tick's time.
        const int ticks = 288;
        var policy = CompactionPolicy.Default with { Horizon = TimeSpan.FromMinutes(horizonMinutes) };
        var midnight = new DateTimeOffset(Today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        long compactionBytes = 0, rowsRewritten = 0;
        var maxFiles = 0;
        void Compact(DateTimeOffset now)
        {
            var guard = 0;
            while (CompactionPlanner.Plan(_lake.Manifest, now, policy).FirstOrDefault() is { } job)
            {
                // A plan that undoes its own last job (a merge cut into slices again) never ends.
                Assert.True(++guard <= 20, $"at {now:HH:mm} the planner keeps planning: {job.Reason}");
                var merged = Run(job);
                compactionBytes += merged.Outputs.Sum(o => o.Written.Bytes);
                rowsRewritten += merged.RowsOut;
                // As the daemon's deletion timer does: the manifest keeps no long tail of superseded files.
                _lake.Manifest = new LakeRecovery(_lake.Store, _lake.Roots).DeleteDue(_lake.Manifest, now.AddYears(1), []).Manifest;
            }
        }
        for (var t = 0; t < ticks; t++)
        {
            _lake.Tick(Today, Readings(5 * t, sensors: 50));
            Compact(midnight.AddMinutes(5 * t + 1));
            maxFiles = Math.Max(maxFiles, _lake.Manifest.Files().Count());
        }
        // Past the horizon after midnight: the finished-day rule merges it once more.
        Compact(midnight.AddDays(1) + policy.CorrectionHorizon + policy.SliceSpan);

        var perRow = (double)rowsRewritten / (ticks * 50);
        var amplification = (double)compactionBytes / _lake.Manifest.Files().Sum(f => f.File.Bytes);
        output.WriteLine($"{ticks} ticks: each row rewritten {perRow:0.00} times, compaction wrote {amplification:0.00} x the bytes at rest, at most {maxFiles} files, {_lake.Manifest.Files().Count()} at rest");
        Assert.True(maxFiles <= policy.MaxFiles, $"{maxFiles} files");
        // Tiers in each slice, the slice's merge, tiers over the finished slices, the final merge: measured 4.8 (15 minutes)
        // and 19.6 (2 hours, whose 5 recent slices leave the older part few files, so it merges more often).
        Assert.InRange(perRow, 1, mostRewritesPerRow);
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
