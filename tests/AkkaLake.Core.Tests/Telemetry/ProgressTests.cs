using AkkaLake.Core.Telemetry;
using Xunit;

namespace AkkaLake.Core.Tests.Telemetry;

public class ProgressTests
{
    [Fact]
    public void A_throttle_says_yes_first_then_only_once_the_interval_has_passed_since_its_last_yes()
    {
        var throttle = new Throttle(TimeSpan.FromSeconds(10));
        var t = DateTimeOffset.UnixEpoch;

        Assert.True(throttle.Due(t));
        Assert.False(throttle.Due(t.AddSeconds(9.9)));
        Assert.True(throttle.Due(t.AddSeconds(10)));
        Assert.False(throttle.Due(t.AddSeconds(19)));
        Assert.True(throttle.Due(t.AddSeconds(25)));
    }

    [Fact]
    public void The_time_left_assumes_the_remaining_days_go_as_fast_as_the_done_ones()
    {
        Assert.Null(new DaysProgress(0, 90, 0, TimeSpan.FromSeconds(5)).Left);
        Assert.Equal(TimeSpan.FromSeconds(80), new DaysProgress(10, 90, 1_000, TimeSpan.FromSeconds(10)).Left);
        Assert.Equal(TimeSpan.Zero, new DaysProgress(90, 90, 1_000, TimeSpan.FromSeconds(10)).Left);
        Assert.True(new DaysProgress(90, 90, 1_000, TimeSpan.FromSeconds(10)).Complete);
    }
}
