using AkkaLake.Hosting;
using Xunit;

namespace AkkaLake.Tests.Commands;

public class DaemonStopTests
{
    [Theory]
    [InlineData("SIGTERM", false)]
    [InlineData("SIGINT", false)]
    [InlineData(null, true)]
    public void A_stop_somebody_asked_for_ends_well(string? signal, bool cancelled) =>
        Assert.True(DaemonStop.Outcome(signal, cancelled, actorSystemEnded: true).Succeeded);

    [Theory]
    [InlineData(true, "the actor system ended")]
    [InlineData(false, "a hosted service stopped it")]
    public void A_stop_nobody_asked_for_is_a_failure_that_says_what_stopped(bool actorSystemEnded, string says)
    {
        var outcome = DaemonStop.Outcome(null, false, actorSystemEnded);
        Assert.False(outcome.Succeeded);
        Assert.Contains(says, outcome.Error);
    }
}
