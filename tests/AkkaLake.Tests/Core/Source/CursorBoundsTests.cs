using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Core.Tests.Source;

public class CursorBoundsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Watermark = Now.AddMinutes(-10);

    private static DatabaseClock Clock(DateTimeOffset? open = null, params string[] prepared) => new(Now, open, prepared, true);

    [Fact]
    public void With_no_open_transaction_the_bound_is_now_minus_lag()
    {
        var b = CursorBounds.Compute(Clock(), TimeSpan.FromSeconds(60), Watermark);
        Assert.Equal(new CursorBound(Now.AddSeconds(-60), CursorLimit.Lag), b);
    }

    [Fact]
    public void An_open_transaction_caps_the_bound_strictly_before_its_start_whatever_the_lag()
    {
        var start = Now.AddSeconds(-5);
        var b = CursorBounds.Compute(Clock(start), TimeSpan.Zero, Watermark);
        Assert.Equal(CursorLimit.OpenTransaction, b.LimitedBy);
        Assert.Equal(start.AddTicks(-10), b.Through);
        Assert.True(b.Through < start);
    }

    [Fact]
    public void An_open_transaction_older_than_the_watermark_holds_the_bound_at_the_watermark()
    {
        var b = CursorBounds.Compute(Clock(Watermark.AddMinutes(-30)), TimeSpan.Zero, Watermark);
        Assert.Equal(Watermark, b.Through);
    }

    [Fact]
    public void A_prepared_transaction_holds_the_watermark()
    {
        var b = CursorBounds.Compute(Clock(null, "gid-1"), TimeSpan.Zero, Watermark);
        Assert.Equal(new CursorBound(Watermark, CursorLimit.PreparedTransaction), b);
    }

    [Fact]
    public void A_clock_that_went_backwards_never_moves_the_bound_below_the_watermark()
    {
        var clock = new DatabaseClock(Watermark.AddHours(-1), null, [], true);
        Assert.Equal(Watermark, CursorBounds.Compute(clock, TimeSpan.Zero, Watermark).Through);
    }

    [Fact]
    public void The_bound_has_whole_microseconds_so_it_round_trips_through_postgres()
    {
        var clock = new DatabaseClock(Now.AddTicks(7), null, [], true);
        Assert.Equal(Now, CursorBounds.Compute(clock, TimeSpan.Zero, Watermark).Through);
    }
}
