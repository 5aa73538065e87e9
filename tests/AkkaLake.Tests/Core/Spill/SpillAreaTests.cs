using AkkaLake.Core.Replication;
using AkkaLake.Core.Spill;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Spill;

public class SpillAreaTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly ShardDay Day = new(new DateOnly(2026, 11, 20), 3);

    private static string Spill(SpillArea area, string runId)
    {
        var path = area.FileFor(runId, Day);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "rows");
        return path;
    }

    [Fact]
    public void Two_lakes_under_one_scratch_path_spill_apart_and_opening_one_clears_nothing_of_the_other()
    {
        var tmp = _dir.Combine("tmp");
        var a = new SpillArea(tmp, _dir.Combine("hot-a"));
        var b = new SpillArea(tmp, _dir.Combine("hot-b"));
        var spilledByA = Spill(a, "R1");

        Assert.NotEqual(a.LakeDirectory, b.LakeDirectory);
        Assert.Equal(0, b.ClearLeftovers(DateTimeOffset.UtcNow));
        Assert.True(File.Exists(spilledByA));
    }

    [Fact]
    public void Opening_the_lake_again_in_the_process_that_spills_keeps_its_runs_and_clears_those_of_ended_processes()
    {
        var tmp = _dir.Combine("tmp");
        var lake = new SpillArea(tmp, _dir.Combine("hot"));
        var ours = Spill(lake, "R1");
        var ended = Path.Combine(lake.LakeDirectory, "4242-deadbeef", "R0", "2026-11-20-03.run");
        Directory.CreateDirectory(Path.GetDirectoryName(ended)!);
        File.WriteAllText(ended, "rows of a crashed process");

        Assert.Equal(1, lake.ClearLeftovers(DateTimeOffset.UtcNow));
        Assert.True(File.Exists(ours));
        Assert.False(Directory.Exists(Path.Combine(lake.LakeDirectory, "4242-deadbeef")));
    }

    [Fact]
    public void An_older_builds_run_directory_is_cleared_once_nothing_touched_it_for_a_day()
    {
        var tmp = _dir.Combine("tmp");
        var lake = new SpillArea(tmp, _dir.Combine("hot"));
        var legacy = Path.Combine(lake.Root, "20261120T101010000Z-abcdef");
        Directory.CreateDirectory(legacy);
        File.WriteAllText(Path.Combine(legacy, "2026-11-20-03.run"), "rows");

        Assert.Equal(0, lake.ClearLeftovers(DateTimeOffset.UtcNow));
        Assert.Equal(1, lake.ClearLeftovers(DateTimeOffset.UtcNow.AddDays(2)));
        Assert.False(Directory.Exists(legacy));
    }

    [Fact]
    public void A_batchs_scratch_goes_with_its_run_directory()
    {
        var lake = new SpillArea(_dir.Combine("tmp"), _dir.Combine("hot"));
        var path = Spill(lake, "R7");
        lake.DeleteRun("R7");
        Assert.False(File.Exists(path));
        Assert.True(Directory.Exists(lake.ProcessDirectory));
    }
}
