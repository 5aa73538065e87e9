using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class RowRouterTests
{
    private static readonly DateOnly Today = new(2026, 11, 25);

    [Fact]
    public void Rows_go_to_the_shard_day_of_their_utc_date_and_sensor_hash()
    {
        var rows = new MetricRows();
        var ids = Enumerable.Range(0, 50).Select(i => $"s{i}").ToList();
        foreach (var id in ids)
        {
            rows.Add(id, LakeLayout.StartMicros(Today) - 1, 1, null, null, null);
            rows.Add(id, LakeLayout.StartMicros(Today), 2, null, null, null);
        }
        var routed = new RowRouter(8, _ => LakeLocation.Hot).Route(rows);
        Assert.Equal(100, routed.Count);
        foreach (var (key, blocks) in routed.ByShardDay)
        foreach (var part in blocks)
            for (var i = 0; i < part.Count; i++)
            {
                Assert.Equal(key.Date, LakeLayout.DateOf(part.TsMicros[i]));
                Assert.Equal(key.Shard, ShardHasher.Shard(part.SensorIds[i], 8));
            }
        Assert.Contains(routed.ByShardDay.Keys, k => k.Date == Today.AddDays(-1));
    }

    [Fact]
    public void A_shard_days_rows_come_in_blocks_small_enough_for_the_compacting_heap_in_their_order()
    {
        var rows = new MetricRows();
        var total = RowRouter.BlockRows * 2 + 5;
        for (var i = 0; i < total; i++) rows.Add("a", LakeLayout.StartMicros(Today) + i, i, null, null, null);
        var blocks = Assert.Single(new RowRouter(4, _ => LakeLocation.Hot).Route(rows).ByShardDay).Value;
        Assert.Equal([RowRouter.BlockRows, RowRouter.BlockRows, 5], blocks.Select(b => b.Count));
        Assert.All(blocks, b => Assert.True(b.Capacity * sizeof(long) < 85_000));
        Assert.Equal(Enumerable.Range(0, total).Select(i => (double)i), blocks.SelectMany(b => b.Values.ToArray()));
    }

    [Fact]
    public void Rows_for_a_date_with_no_place_are_counted_not_routed()
    {
        var rows = new MetricRows();
        rows.Add("a", LakeLayout.StartMicros(Today), 1, null, null, null);
        rows.Add("a", LakeLayout.StartMicros(Today.AddDays(-200)), 1, null, null, null);
        var routed = new RowRouter(4, d => d < Today.AddDays(-90) ? null : LakeLocation.Hot).Route(rows);
        Assert.Equal(1, routed.TooOld);
        Assert.Single(routed.ByShardDay);
    }

    [Fact]
    public void Placement_keeps_existing_partitions_where_they_are_and_sends_old_new_dates_cold_or_nowhere()
    {
        var t = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        var file = new PartFile("p.parquet", 1, 1, t, t, null, t, 0, "R");
        var m = LakeManifest.Create(4, t).Apply(new LakeCommit(CommitKind.Replication, "R",
            [new FileAdd(Today.AddDays(-5), 0, LakeLocation.Cold, file)], []), t, t);
        var withCold = new PartitionPlacement(m, Today, 90, hasColdPath: true);
        Assert.Equal(LakeLocation.Cold, withCold.LocationFor(Today.AddDays(-5)));
        Assert.Equal(LakeLocation.Hot, withCold.LocationFor(Today.AddDays(-90)));
        Assert.Equal(LakeLocation.Cold, withCold.LocationFor(Today.AddDays(-91)));
        Assert.Null(new PartitionPlacement(m, Today, 90, hasColdPath: false).LocationFor(Today.AddDays(-91)));
        Assert.Equal(LakeLocation.Hot, withCold.LocationFor(Today.AddDays(400)));
    }
}
