using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Core.Tests.Source;

public class BackfillPassTests
{
    private static readonly DayScan ByTimeIndex = new("metrics_ts_idx", null);
    private static readonly DayScan BySensorRanges = new("metrics_pkey", ["a", "b"]);
    private static readonly DayScan ByScans = new(null, null);

    [Fact]
    public void A_table_holding_little_more_than_the_backfill_is_read_in_one_pass_whatever_its_indexes()
    {
        Assert.True(BackfillPass.InOnePass(ByTimeIndex, tableRows: 100, backfillRows: 90));
        Assert.True(BackfillPass.InOnePass(BySensorRanges, tableRows: 100, backfillRows: 90));
    }

    [Fact]
    public void Years_of_history_are_read_a_day_at_a_time_over_an_index_and_the_dearer_the_days_the_more_history_a_pass_is_worth()
    {
        Assert.False(BackfillPass.InOnePass(ByTimeIndex, tableRows: 300, backfillRows: 100));
        Assert.True(BackfillPass.InOnePass(BySensorRanges, tableRows: 300, backfillRows: 100));
        Assert.False(BackfillPass.InOnePass(BySensorRanges, tableRows: 1_000, backfillRows: 100));
    }

    [Fact]
    public void Without_an_index_every_day_read_would_scan_the_table_so_a_pass_is_always_chosen()
    {
        Assert.True(BackfillPass.InOnePass(ByScans, tableRows: 1_000_000, backfillRows: 1));
    }
}
