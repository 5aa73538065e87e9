using AkkaLake.Core.Telemetry;
using Xunit;

namespace AkkaLake.Core.Tests.Telemetry;

public class ProgressTests
{
    [Fact]
    public void The_time_left_assumes_the_days_still_to_read_go_as_fast_as_the_ones_read()
    {
        Assert.Null(new DaysProgress(0, 90, 0, TimeSpan.FromSeconds(5), 0, 90).Left);
        Assert.Equal(TimeSpan.FromSeconds(80), new DaysProgress(10, 90, 1_000, TimeSpan.FromSeconds(10), 10, 80).Left);
        Assert.Equal(TimeSpan.Zero, new DaysProgress(90, 90, 1_000, TimeSpan.FromSeconds(10), 90, 0).Left);
        Assert.True(new DaysProgress(90, 90, 1_000, TimeSpan.FromSeconds(10), 90, 0).Complete);
        // Three days of history under a 90-day horizon: after the first of them, two are left to read, not 89.
        Assert.Equal(TimeSpan.FromSeconds(2), new DaysProgress(1, 91, 1_000, TimeSpan.FromSeconds(1), 1, 2).Left);
    }
}
