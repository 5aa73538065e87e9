using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class UpsertsTests : IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 24);
    private static readonly long T = LakeLayout.StartMicros(Day);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private CommittedPart Committed(string name, params (string Id, long Ts, double Value)[] rows) =>
        CommittedParts.Write(_dir.Combine(name), 7, rows);

    private static MetricRows Batch(params (string Id, long Ts, double Value)[] rows)
    {
        var data = new MetricRows();
        foreach (var (id, ts, v) in rows) data.Add(id, ts, v, 0, null, null);
        data.Sort();
        return data;
    }

    private static List<(string, long, double)> Rows(StagedPart part) =>
        [.. LakeDuckDb.ReadFile(part.Written.TmpPath).Select(r => (r.SensorId, Timestamps.ToMicros(r.Ts), r.Value))];

    [Fact]
    public void A_new_version_goes_into_the_file_holding_the_old_one_an_unchanged_one_is_dropped_and_a_newer_reading_is_the_parts()
    {
        var a = Committed("part-a.parquet", ("s1", T, 1), ("s1", T + 10, 2), ("s2", T, 3));
        var b = Committed("part-b.parquet", ("s1", T + 20, 4));
        var upserts = new Upserts([a, b]);

        var kept = upserts.Resolve(Batch(("s1", T + 10, 20), ("s2", T, 3), ("s2", T + 30, 5)));

        Assert.Equal([("s2", T + 30)], Enumerable.Range(0, kept.Count).Select(i => (kept.SensorIds[i], kept.TsMicros[i])));
        Assert.Equal((1L, 1L, 1L), (upserts.Unchanged, upserts.Superseded, upserts.Placed));
        var rewrite = upserts.RewritePlaced(new ShardDay(Day, 0), LakeLocation.Hot, _dir.Path, "R9", 1000);
        Assert.Equal(["part-a.parquet"], rewrite.Removes.Select(r => r.Name));
        var copy = Assert.Single(rewrite.Copies);
        Assert.Equal(7, copy.Version);
        Assert.Equal([("s1", T, 1.0), ("s1", T + 10, 20.0), ("s2", T, 3.0)], Rows(copy));
    }

    [Fact]
    public void Holding_corrections_every_reading_as_old_as_the_newest_committed_row_is_held_unread_and_the_later_ones_are_the_parts()
    {
        var a = Committed("part-a.parquet", ("s1", T, 1), ("s1", T + 10, 2));
        var b = Committed("part-b.parquet", ("s2", T + 20, 4));
        File.Delete(a.Path);
        File.Delete(b.Path);
        var upserts = new Upserts([a, b], holdCorrections: true);

        // A re-sent reading (s1 at T + 10), one unchanged (s2 at T + 20), a late new one (s3 at T + 5): none is looked up (the files are gone).
        var kept = upserts.Resolve(Batch(("s1", T + 10, 20), ("s2", T + 20, 4), ("s3", T + 5, 6), ("s2", T + 21, 5)));

        Assert.Equal([("s2", T + 21)], Enumerable.Range(0, kept.Count).Select(i => (kept.SensorIds[i], kept.TsMicros[i])));
        Assert.Equal((3L, 0L, 0L, 0L, 0), (upserts.Held, upserts.Unchanged, upserts.Superseded, upserts.Placed, upserts.FilesRead));
        Assert.Equal(Timestamps.FromMicros(T + 5), upserts.OldestHeld);
        Assert.False(upserts.HasPlacements);
    }

    [Fact]
    public void A_reading_new_to_the_lake_and_older_than_the_newest_file_goes_into_the_file_its_time_falls_in()
    {
        var a = Committed("part-a.parquet", ("s1", T, 1), ("s2", T + 50, 2));
        var b = Committed("part-b.parquet", ("s1", T + 100, 3), ("s2", T + 150, 4));
        var upserts = new Upserts([b, a]);

        // s3 at T + 60 is new and falls in a's time (it starts last before it); s3 at T + 120 falls in b's, the newest, so it is the part's.
        var kept = upserts.Resolve(Batch(("s3", T + 60, 9), ("s3", T + 120, 8), ("s1", T - 5, 7)));

        Assert.Equal([("s3", T + 120)], Enumerable.Range(0, kept.Count).Select(i => (kept.SensorIds[i], kept.TsMicros[i])));
        var rewrite = upserts.RewritePlaced(new ShardDay(Day, 0), LakeLocation.Hot, _dir.Path, "R9", 1000);
        // A reading before every file goes into the first.
        Assert.Equal([("s1", T - 5, 7.0), ("s1", T, 1.0), ("s2", T + 50, 2.0), ("s3", T + 60, 9.0)], Rows(Assert.Single(rewrite.Copies)));
        Assert.Equal((2L, 0L), (rewrite.PlacedRows, rewrite.SupersededRows));
    }

    [Fact]
    public void A_reading_after_its_sensors_last_one_in_a_large_file_costs_a_footer_read_only()
    {
        var rows = Enumerable.Range(0, (int)SensorRanges.MinRows).Select(i => ("s1", T + i, 1.0)).Append(("s2", T + 1_000_000, 1.0)).ToArray();
        var upserts = new Upserts([Committed("compact-a.parquet", rows)]);

        // Inside the file's ts range, after s1's last reading in it: its footer says so.
        upserts.Resolve(Batch(("s1", T + 500_000, 1)));
        Assert.Equal(0, upserts.FilesRead);

        upserts.Resolve(Batch(("s1", T + 10, 2)));
        Assert.Equal(1, upserts.FilesRead);
        Assert.True(upserts.HasPlacements);
    }

    [Fact]
    public void Sensor_ranges_survive_the_footer_and_a_damaged_one_is_ignored()
    {
        var ranges = new SensorRanges();
        Assert.True(ranges.Add(["a", "a", "b"], [1, 5, 3]));
        var back = SensorRanges.Decode(new Dictionary<string, string> { [SensorRanges.Key] = ranges.Encode() })!;
        Assert.True(back.MayHold("a", 5));
        Assert.False(back.MayHold("a", 6));
        Assert.False(back.MayHold("c", 3));
        Assert.Null(SensorRanges.Decode(new Dictionary<string, string> { [SensorRanges.Key] = "[[1,2" }));
    }
}
