using AkkaLake.Core.Compaction;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Core.Tests.Compaction;

public class CompactionTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(LakeFixture.T0.UtcDateTime);
    private readonly LakeFixture _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IEnumerable<(string, long, double)> Readings(int tick, int sensors = 20, double offset = 0) =>
        Enumerable.Range(0, sensors).Select(s => ($"sensor-{s:D3}", LakeLayout.StartMicros(Today) + tick * 60_000_000L, s + tick + offset));

    private static DateTime MinuteOfToday(int minute) => Today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddMinutes(minute);

    private MergeResult Run(CompactionJob job, IFaultPoints? faults = null, long target = 256L << 20)
    {
        var result = new PartMerger(_lake.Roots, batchRows: 7).Merge(job, RunId.New(LakeFixture.T0), target);
        (faults ?? FaultPoints.None).Hit("compaction.before-commit");
        _lake.Manifest = new LakeCommitter(_lake.Store, _lake.Roots, faults).Commit(_lake.Manifest,
            new LakeCommit(LakeCommit.Compaction, "C", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, job.Shard, f.Name))]),
            result.Outputs, LakeFixture.T0, TimeSpan.Zero);
        return result;
    }

    private void CompactFully(DateOnly today)
    {
        while (CompactionPlanner.Plan(_lake.Manifest, today, CompactionPolicy.Default).FirstOrDefault() is { } job) Run(job);
    }

    [Fact]
    public void Planner_merges_the_newest_files_when_fan_in_of_them_share_a_level()
    {
        for (var t = 0; t < 3; t++) _lake.Tick(Today, Readings(t));
        Assert.Empty(CompactionPlanner.Plan(_lake.Manifest, Today, CompactionPolicy.Default));
        _lake.Tick(Today, Readings(3));
        var job = Assert.Single(CompactionPlanner.Plan(_lake.Manifest, Today, CompactionPolicy.Default));
        Assert.Equal(4, job.Inputs.Count);
        Assert.Equal(1, job.OutputLevel);
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
            new LakeCommit(LakeCommit.Compaction, "C1", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, 0, f.Name))]), merged.Outputs, LakeFixture.T0, TimeSpan.Zero);

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
    public void A_simulated_day_of_ticks_keeps_write_amplification_within_the_stated_bound()
    {
        const int ticks = 288;
        var policy = CompactionPolicy.Default;
        long compactionBytes = 0;
        var maxFiles = 0;
        for (var t = 0; t < ticks; t++)
        {
            _lake.Tick(Today, Readings(t, sensors: 50));
            while (CompactionPlanner.Plan(_lake.Manifest, Today, policy).FirstOrDefault() is { } job)
                compactionBytes += Run(job).Outputs.Sum(o => o.Written.Bytes);
            maxFiles = Math.Max(maxFiles, _lake.Manifest.Files().Count());
        }
        // The day ends: the finished-day rule merges it once more.
        while (CompactionPlanner.Plan(_lake.Manifest, Today.AddDays(1), policy).FirstOrDefault() is { } job)
            compactionBytes += Run(job).Outputs.Sum(o => o.Written.Bytes);

        var finalBytes = _lake.Manifest.Files().Sum(f => f.File.Bytes);
        var amplification = (double)compactionBytes / finalBytes;
        var levels = (int)Math.Ceiling(Math.Log(ticks) / Math.Log(policy.FanIn));
        output.WriteLine($"{ticks} ticks: write amplification {amplification:0.00} (bound {levels + 1}), at most {maxFiles} files, {_lake.Manifest.Files().Count()} at rest");
        Assert.InRange(amplification, 1, levels + 1);
        Assert.True(maxFiles <= levels * (policy.FanIn - 1) + 1, $"{maxFiles} files");
        Assert.Single(_lake.Manifest.Files());
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
