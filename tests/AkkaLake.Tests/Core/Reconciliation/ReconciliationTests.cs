using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Reconciliation;
using Xunit;

namespace AkkaLake.Core.Tests.Reconciliation;

public class ReconciliationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);

    private static Dictionary<string, SensorDigest> Digests(params (string Id, (long Ts, double Value, int Quality)[] Rows)[] sensors) =>
        sensors.ToDictionary(s => s.Id, s => s.Rows.Aggregate(default(SensorDigest), (d, r) => d.Add(RowChecksum.Of(r.Ts, r.Value, r.Quality))));

    [Fact]
    public void A_row_checksum_changes_with_each_field_and_rows_cannot_trade_fields()
    {
        var row = RowChecksum.Of(1_000_000, 21.5, 0);
        Assert.NotEqual(row, RowChecksum.Of(1_000_001, 21.5, 0));
        Assert.NotEqual(row, RowChecksum.Of(1_000_000, 21.500000000000004, 0));
        Assert.NotEqual(row, RowChecksum.Of(1_000_000, 21.5, 1));
        Assert.NotEqual(RowChecksum.Of(0, 0.0, 0), RowChecksum.Of(0, -0.0, 0));
        Assert.InRange(RowChecksum.Of(-62_135_596_800_000_000, double.NaN, -5), 0, RowChecksum.Prime - 1);
        // Two rows swapping their values keep the sums of ts and of value, not of the checksum.
        Assert.NotEqual(RowChecksum.Of(1, 10, 0) + RowChecksum.Of(2, 20, 0), RowChecksum.Of(1, 20, 0) + RowChecksum.Of(2, 10, 0));
    }

    [Fact]
    public void Days_that_agree_have_no_differences_and_each_differing_sensor_is_counted_in_its_shard()
    {
        var source = Digests(("a", [(1, 1.0, 0), (2, 2.0, 0)]), ("b", [(1, 5.0, 0)]), ("c", [(1, 7.0, 0)]));
        Assert.False(DayComparison.Compare(Today, source, Digests(("a", [(1, 1.0, 0), (2, 2.0, 0)]), ("b", [(1, 5.0, 0)]), ("c", [(1, 7.0, 0)])), 4).Differs);

        // a lost a row, b changed a value, c is gone from PostgreSQL, d exists only in the lake.
        var lake = Digests(("a", [(1, 1.0, 0)]), ("b", [(1, 5.5, 0)]), ("d", [(1, 1.0, 0)]));
        var check = DayComparison.Compare(Today, source, lake, 4);
        Assert.True(check.Differs);
        Assert.Equal(4, check.SourceRows);
        Assert.Equal(3, check.LakeRows);
        Assert.Equal(4, check.Shards.Sum(s => s.SensorsDiffering));
        Assert.All(check.Shards, s => Assert.Equal(s.Shard, ShardHasher.Shard(s.ExampleSensor, 4)));
    }

    [Fact]
    public void Sensors_the_lake_cannot_hold_do_not_count_as_differences()
    {
        var source = Digests(("a", [(1, 1.0, 0)]), ("", [(1, 1.0, 0)]), (new string('x', 300), [(1, 1.0, 0)]));
        Assert.False(DayComparison.Compare(Today, source, Digests(("a", [(1, 1.0, 0)])), 2).Differs);
    }

    private static LakeManifest Lake(params (DateOnly Day, LakeLocation Location)[] days)
    {
        var partitions = days.ToImmutableSortedDictionary(
            d => LakeLayout.DateKey(d.Day),
            d => new PartitionState(d.Location, Now, null, 0, 0, 0, ImmutableSortedDictionary<string, ShardState>.Empty), StringComparer.Ordinal);
        var manifest = LakeManifest.Create(4, Now);
        return manifest with { Datasets = manifest.Datasets.SetItem(LakeLayout.Dataset, manifest.Metrics with { ComputedThroughTs = Now, Partitions = partitions }) };
    }

    [Fact]
    public void The_schedule_checks_newest_first_recent_days_more_often_and_skips_cold_days()
    {
        var schedule = new ReconcileSchedule(TimeSpan.FromDays(1), TimeSpan.FromHours(1));
        var manifest = Lake((Today, LakeLocation.Hot), (Today.AddDays(-1), LakeLocation.Hot), (Today.AddDays(-5), LakeLocation.Hot), (Today.AddDays(-100), LakeLocation.Cold));
        var checkedAt = new Dictionary<DateOnly, DateTimeOffset>();

        Assert.Equal(Today, schedule.Next(manifest, checkedAt, Now));
        checkedAt[Today] = Now;
        Assert.Equal(Today.AddDays(-1), schedule.Next(manifest, checkedAt, Now));
        checkedAt[Today.AddDays(-1)] = Now;
        Assert.Equal(Today.AddDays(-5), schedule.Next(manifest, checkedAt, Now));
        checkedAt[Today.AddDays(-5)] = Now;
        Assert.Null(schedule.Next(manifest, checkedAt, Now.AddMinutes(30)));

        // Two hours on, the recent days are due again and the older one is not.
        Assert.Contains(schedule.Next(manifest, checkedAt, Now.AddHours(2)), new DateOnly?[] { Today, Today.AddDays(-1) });
        checkedAt[Today] = checkedAt[Today.AddDays(-1)] = Now.AddHours(2);
        Assert.Null(schedule.Next(manifest, checkedAt, Now.AddHours(2)));
        // A day on, the older one is due as well.
        checkedAt[Today] = checkedAt[Today.AddDays(-1)] = Now.AddHours(25);
        Assert.Equal(Today.AddDays(-5), schedule.Next(manifest, checkedAt, Now.AddHours(25)));
    }

    [Fact]
    public void Nothing_is_checked_before_the_first_backfill_completes_or_during_a_takeover()
    {
        var schedule = ReconcileSchedule.Default;
        var lake = Lake((Today, LakeLocation.Hot));
        Assert.Null(schedule.Next(lake with { Datasets = lake.Datasets.SetItem(LakeLayout.Dataset, lake.Metrics with { ComputedThroughTs = null }) }, new Dictionary<DateOnly, DateTimeOffset>(), Now));
        var takeover = new TakeoverState(Now, Now, 1, [LakeLayout.DateKey(Today)], null);
        Assert.Null(schedule.Next(lake with { Datasets = lake.Datasets.SetItem(LakeLayout.Dataset, lake.Metrics with { Takeover = takeover }) }, new Dictionary<DateOnly, DateTimeOffset>(), Now));
    }
}
