using AkkaLake.Core.Compaction;
using AkkaLake.Core.Status;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Compaction;

public class CompactionBacklogTests : IDisposable
{
    private static readonly DateOnly Today = LakeFixture.Today;
    private readonly LakeFixture _lake = new(withCold: false);

    public void Dispose() => _lake.Dispose();

    [Fact]
    public void A_finished_day_in_many_parts_counts_each_part_over_its_one_final_file_and_slows_reads()
    {
        var day = Today.AddDays(-1);
        for (var t = 0; t < 6; t++) _lake.Tick(day, LakeFixture.FiveSensorsAt(day, t));
        _lake.Tick(Today, LakeFixture.FiveSensorsAt(Today, 0));

        var backlog = CompactionBacklog.Of(_lake.Manifest, LakeFixture.T0, CompactionPolicy.Default);

        Assert.Equal((1, 5, 7, 2), (backlog.ShardDays, backlog.ExcessFiles, backlog.Files, backlog.FinalFiles));
        Assert.Equal(_lake.Manifest.Files().Where(f => f.Date == day).Sum(f => f.File.Bytes), backlog.BytesToRewrite);
        Assert.True(backlog.SlowsReads);
        Assert.Equal(TimeSpan.FromSeconds(backlog.BytesToRewrite / 1000.0), backlog.TimeToClear(1000));
        Assert.Null(backlog.TimeToClear(null));
    }

    [Fact]
    public void Status_is_degraded_while_the_controller_would_read_more_than_twice_the_final_files_and_says_how_long_merging_takes()
    {
        var day = Today.AddDays(-1);
        for (var t = 0; t < 6; t++) _lake.Tick(day, LakeFixture.FiveSensorsAt(day, t));
        var inputs = new StatusInputs(_lake.Manifest, null, null, 42, null, [], 48, null, CompactionBytesPerSecond: 100);

        var status = LakeStatus.Judge(inputs, LakeFixture.T0);

        Assert.Equal(Health.Degraded, status.Health);
        var reason = Assert.Single(status.Reasons);
        Assert.StartsWith("the lake holds 6 files, more than twice the 1 it holds once compaction catches up", reason);
        Assert.Equal(status.Backlog!.BytesToRewrite / 100.0, status.BacklogSecondsToClear);
    }

    [Fact]
    public void Today_within_its_file_budget_and_finished_days_at_rest_are_no_backlog()
    {
        for (var t = 0; t < 8; t++) _lake.Tick(Today, LakeFixture.FiveSensorsAt(Today, t));
        var yesterday = Today.AddDays(-1);
        for (var t = 0; t < 2; t++) _lake.Tick(yesterday, LakeFixture.FiveSensorsAt(yesterday, t));

        var backlog = CompactionBacklog.Of(_lake.Manifest, LakeFixture.T0, CompactionPolicy.Default);

        Assert.Equal((0, 0, 10, 10), (backlog.ShardDays, backlog.ExcessFiles, backlog.Files, backlog.FinalFiles));
        Assert.False(backlog.SlowsReads);
        Assert.Equal(TimeSpan.Zero, backlog.TimeToClear(null));
    }
}
