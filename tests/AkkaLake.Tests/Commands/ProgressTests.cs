using AkkaLake.Commands;
using Xunit;

namespace AkkaLake.Tests.Commands;

public class ProgressTests
{
    [Fact]
    public void A_line_says_done_of_total_the_rate_and_the_time_left()
    {
        Assert.Equal("backfill: 10/90 days, 1,000,000 rows, 100,000 rows/s, about 1:20 left",
            Progress.Line("backfill", "days", 10, 90, 1_000_000, TimeSpan.FromSeconds(10), barWidth: null));
        Assert.Equal("verify [#####-----] 50/100 files, 2.5 files/s, about 0:20 left",
            Progress.Line("verify", "files", 50, 100, null, TimeSpan.FromSeconds(20), barWidth: 10));
        Assert.Equal("verify [##########] 100/100 files, 5 files/s, done in 0:20",
            Progress.Line("verify", "files", 100, 100, null, TimeSpan.FromSeconds(20), barWidth: 10));
        Assert.Equal("compact: 0/7 shard-days, 0 shard-days/s, time left unknown",
            Progress.Line("compact", "shard-days", 0, 7, null, TimeSpan.Zero, barWidth: null));
        Assert.Equal("backfill: 1/2 days, 5 rows, 0 rows/s, about 2:00:00 left",
            Progress.Line("backfill", "days", 1, 2, 5, TimeSpan.FromHours(2), barWidth: null));
    }

    [Fact]
    public void Off_a_terminal_quick_work_prints_only_its_last_line()
    {
        var output = new StringWriter();
        var progress = new Progress(output, "verify", "files", terminal: false);
        for (var i = 0; i <= 50; i++) progress.Report(i, 50);

        Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("verify: 50/50 files", output.ToString());
    }

    [Fact]
    public void On_a_terminal_the_bar_is_redrawn_in_place_and_a_result_line_clears_it_first()
    {
        var output = new StringWriter();
        var results = new StringWriter();
        var progress = new Progress(output, "compact", "shard-days", terminal: true);
        progress.Report(0, 2);
        progress.WriteLine(results, "[1/2] done");
        progress.Report(1, 2);
        progress.Report(2, 2);

        var drawn = output.ToString();
        Assert.StartsWith("\r\u001b[Kcompact [", drawn);
        Assert.Contains("\r\u001b[K\r\u001b[Kcompact [", drawn);
        Assert.EndsWith("done in 0:00" + Environment.NewLine, drawn);
        Assert.Equal("[1/2] done" + Environment.NewLine, results.ToString());
    }
}
