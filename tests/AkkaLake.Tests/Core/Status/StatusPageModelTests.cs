using AkkaLake.Core.Compaction;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Status;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Status;

/// <summary>What the status page draws, as plain rules: the map, reconciliation's marks, the lag history, which log lines are events.</summary>
public class StatusPageModelTests : IDisposable
{
    private static readonly DateOnly Today = LakeFixture.Today;
    private readonly LakeFixture _lake = new(withCold: false);

    public void Dispose() => _lake.Dispose();

    [Fact]
    public void The_map_has_a_row_per_day_newest_first_and_a_cell_per_shard_day_with_its_files_against_the_final_count()
    {
        var yesterday = Today.AddDays(-1);
        for (var t = 0; t < 4; t++) _lake.Tick(yesterday, LakeFixture.FiveSensorsAt(yesterday, t));
        _lake.Tick(Today, LakeFixture.FiveSensorsAt(Today, 0));
        var marks = new Dictionary<string, string> { [LakeLayout.DateKey(yesterday)] = ReconcileMarks.Differs };

        var map = LakeMap.Of(_lake.Manifest, marks, LakeFixture.T0, CompactionPolicy.Default);

        Assert.Equal([LakeLayout.DateKey(Today), LakeLayout.DateKey(yesterday)], map.Select(d => d.Date));
        Assert.Null(map[0].Reconcile);
        Assert.Equal(ReconcileMarks.Differs, map[1].Reconcile);
        Assert.All(map, d => Assert.Equal("hot", d.Location));
        var manifestShards = _lake.Manifest.Metrics.Partitions[LakeLayout.DateKey(yesterday)].Shards;
        Assert.Equal(manifestShards.Keys, map[1].Shards.Select(c => c.Shard));
        foreach (var cell in map[1].Shards)
        {
            var files = manifestShards[cell.Shard].Files;
            Assert.Equal((files.Count, files.Sum(f => f.Rows), files.Sum(f => f.Bytes)), (cell.Files, cell.Rows, cell.Bytes));
            Assert.Equal(1, cell.FinalFiles);
        }
        Assert.All(map[0].Shards, c => Assert.Equal(c.Files, c.FinalFiles));
    }

    [Fact]
    public void A_day_found_different_stays_marked_through_its_rebuild_and_later_checks()
    {
        string? mark = null;
        string Next(string template) => mark = ReconcileMarks.After(mark, template) ?? mark!;

        Assert.Equal(ReconcileMarks.Agrees, Next("Checked {Date} against PostgreSQL: its {Rows} rows agree, in {DurationMs} ms"));
        Assert.Equal(ReconcileMarks.Differs, Next("{Date} differs from PostgreSQL in {Shards} shards: …"));
        Assert.Equal(ReconcileMarks.Rebuilding, Next("Rebuilding {Date} from PostgreSQL because it differs from it; …"));
        Assert.Equal(ReconcileMarks.Rebuilt, Next("Rebuilt {Date}, replacing {Replaced} files: …"));
        Assert.Equal(ReconcileMarks.Rebuilt, Next("Checked {Date} against PostgreSQL: its {Rows} rows agree, in {DurationMs} ms"));
        Assert.Null(ReconcileMarks.After(null, "Backfilled {Date}: …"));
        Assert.Null(ReconcileMarks.After(null, "Rebuilt {Date}, replacing {Replaced} files: …"));
    }

    [Fact]
    public void The_lag_history_keeps_an_hour_and_at_most_its_capacity()
    {
        var history = new LagHistory(TimeSpan.FromHours(1), capacity: 5);
        var t0 = LakeFixture.T0;
        for (var i = 0; i < 8; i++) history.Add(new LagPoint(t0.AddSeconds(10 * i), i));
        Assert.Equal([3.0, 4, 5, 6, 7], history.Snapshot().Select(p => p.LagSeconds));

        history.Add(new LagPoint(t0.AddHours(2), 99));
        Assert.Equal([99.0], history.Snapshot().Select(p => p.LagSeconds));
    }

    [Theory]
    [InlineData("Replicated {Rows} rows into {Files} files", "run")]
    [InlineData("Backfilled {Date}: {Rows} rows", "backfill")]
    [InlineData("Compacted {Date} shard {Shard} ({Reason}): …", "compaction")]
    [InlineData("Partition {Date} {What}: {Bytes} bytes", "move")]
    [InlineData("Deleted {Files} files whose grace period ended", "deletion")]
    [InlineData("{Date} differs from PostgreSQL in {Shards} shards", "reconcile")]
    [InlineData("Lake ready at {HotPath}", null)]
    public void Which_log_lines_are_events(string template, string? kind) => Assert.Equal(kind, LakeEvents.KindOf(template));
}
