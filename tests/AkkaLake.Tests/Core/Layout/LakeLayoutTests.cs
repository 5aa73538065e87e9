using AkkaLake.Core.Layout;
using Xunit;

namespace AkkaLake.Core.Tests.Layout;

public class LakeLayoutTests
{
    [Fact]
    public void Shard_directory_follows_the_contract() =>
        Assert.Equal("metrics/v1/date=2026-03-07/shard=05", LakeLayout.ShardDirectory(new DateOnly(2026, 3, 7), 5));

    [Fact]
    public void File_names_carry_kind_run_and_sequence()
    {
        Assert.Equal("part-R1-0000.parquet", LakeLayout.FileName(PartKind.Incremental, "R1", 0));
        Assert.Equal("backfill-R1-0012.parquet", LakeLayout.FileName(PartKind.Backfill, "R1", 12));
        Assert.Equal("compact-R1-0001.parquet", LakeLayout.FileName(PartKind.Compaction, "R1", 1));
    }

    [Theory]
    [InlineData("part-R1-0000.parquet", true)]
    [InlineData("compact-x.parquet", true)]
    [InlineData("part-R1-0000.parquet.tmp", false)]
    [InlineData("notes.parquet", false)]
    [InlineData("part-R1-0000.csv", false)]
    public void Only_finished_files_of_known_kinds_are_parts(string name, bool isPart) =>
        Assert.Equal(isPart, LakeLayout.IsPartFileName(name));

    [Fact]
    public void Shard_directories_parse_back_and_foreign_names_do_not()
    {
        Assert.Equal((new DateOnly(2026, 1, 2), 15), LakeLayout.ParseShardDirectory("date=2026-01-02", "shard=15"));
        Assert.Null(LakeLayout.ParseShardDirectory("date=2026-13-02", "shard=15"));
        Assert.Null(LakeLayout.ParseShardDirectory("date=2026-01-02", "shard=5"));
        Assert.Null(LakeLayout.ParseShardDirectory("2026-01-02", "shard=05"));
    }

    [Fact]
    public void Date_of_a_timestamp_is_its_utc_day_including_before_1970_and_at_the_edges()
    {
        Assert.Equal(new DateOnly(1970, 1, 1), LakeLayout.DateOf(0));
        Assert.Equal(new DateOnly(1969, 12, 31), LakeLayout.DateOf(-1));
        Assert.Equal(new DateOnly(1970, 1, 2), LakeLayout.DateOf(LakeLayout.MicrosPerDay));
        Assert.Equal(new DateOnly(1970, 1, 1), LakeLayout.DateOf(LakeLayout.MicrosPerDay - 1));
        var lastMicro = Timestamps.ToMicros(new DateTime(9999, 12, 31, 23, 59, 59, DateTimeKind.Utc)) + 999_999;
        Assert.Equal(new DateOnly(9999, 12, 31), LakeLayout.DateOf(lastMicro));
        Assert.Equal(new DateOnly(1, 1, 1), LakeLayout.DateOf(Timestamps.ToMicros(DateTime.MinValue)));
        Assert.Equal(LakeLayout.StartMicros(new DateOnly(2026, 11, 25)), Timestamps.ToMicros(new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc)));
    }

    [Fact]
    public void Timestamps_round_trip_with_microseconds_in_utc()
    {
        var t = new DateTimeOffset(2026, 11, 25, 17, 21, 24, TimeSpan.FromHours(2)).AddTicks(1234560);
        var text = Timestamps.Format(t);
        Assert.Equal("2026-11-25T15:21:24.123456Z", text);
        Assert.Equal(t, Timestamps.Parse(text));
        Assert.Equal(t, Timestamps.FromMicros(Timestamps.ToMicros(t)));
    }
}
