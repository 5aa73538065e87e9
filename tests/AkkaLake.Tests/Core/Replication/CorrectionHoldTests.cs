using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class CorrectionHoldTests
{
    private static readonly DateTimeOffset W = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(120);

    private static ReplicationStep.Incremental Step(int boundSeconds) => new(W, new CursorBound(W.AddSeconds(boundSeconds), CursorLimit.Lag));

    [Fact]
    public void Batches_hold_from_the_first_that_left_readings_read_on_from_the_last_and_the_first_after_the_hold_reads_again_from_the_watermark()
    {
        var hold = new CorrectionHold(Hold);

        var first = Assert.IsType<ReplicationStep.Incremental>(hold.Plan(Step(10), W.AddSeconds(10)));
        Assert.Equal((true, (DateTimeOffset?)null, W), (first.HoldsCorrections, first.ReadFrom, first.Window.After));
        // Its files claim no more than the watermark it may leave in place.
        Assert.Equal(((DateTimeOffset?)W, (DateTimeOffset?)W), first.CursorRange);
        Assert.Null(hold.WatermarkAfter(first, held: 3));
        hold.Committed(first, held: 3, W.AddSeconds(11));
        Assert.True(hold.Holding);

        var second = Assert.IsType<ReplicationStep.Incremental>(hold.Plan(Step(20), W.AddSeconds(20)));
        Assert.Equal((true, W.AddSeconds(10), W.AddSeconds(20)), (second.HoldsCorrections, second.Window.After, second.Window.Through));
        Assert.Null(hold.WatermarkAfter(second, held: 0));
        hold.Committed(second, held: 0, W.AddSeconds(21));

        // Nothing inserted past what was read: nothing to do until the hold is over.
        Assert.IsType<ReplicationStep.UpToDate>(hold.Plan(Step(20), W.AddSeconds(30)));

        var placing = Assert.IsType<ReplicationStep.Incremental>(hold.Plan(Step(140), W.AddSeconds(131)));
        Assert.Equal((false, W, W.AddSeconds(140)), (placing.HoldsCorrections, placing.Window.After, placing.Window.Through));
        Assert.Equal(((DateTimeOffset?)W, (DateTimeOffset?)W.AddSeconds(140)), placing.CursorRange);
        Assert.Equal(W.AddSeconds(140), hold.WatermarkAfter(placing, held: 0));
        hold.Committed(placing, held: 0, W.AddSeconds(132));
        Assert.False(hold.Holding);
    }

    [Fact]
    public void A_batch_that_holds_nothing_with_nothing_held_before_moves_the_watermark()
    {
        var hold = new CorrectionHold(Hold);
        var step = Assert.IsType<ReplicationStep.Incremental>(hold.Plan(Step(10), W.AddSeconds(10)));

        Assert.Equal(W.AddSeconds(10), hold.WatermarkAfter(step, held: 0));
        hold.Committed(step, held: 0, W.AddSeconds(11));
        Assert.False(hold.Holding);
    }

    [Fact]
    public void A_rebuild_or_a_failure_drops_the_hold_so_the_next_batch_reads_again_from_the_watermark()
    {
        var hold = new CorrectionHold(Hold);
        var first = (ReplicationStep.Incremental)hold.Plan(Step(10), W.AddSeconds(10));
        hold.Committed(first, held: 1, W.AddSeconds(11));

        var rebuild = new ReplicationStep.Rebuild(new DateOnly(2026, 12, 5), LakeLocation.Hot, W, []);
        Assert.Same(rebuild, hold.Plan(rebuild, W.AddSeconds(20)));
        Assert.False(hold.Holding);
        Assert.Null(((ReplicationStep.Incremental)hold.Plan(Step(30), W.AddSeconds(30))).ReadFrom);

        hold.Committed(first, held: 1, W.AddSeconds(31));
        hold.Drop();
        Assert.Null(((ReplicationStep.Incremental)hold.Plan(Step(40), W.AddSeconds(40))).ReadFrom);
    }

    [Fact]
    public void With_no_hold_every_batch_places_its_readings_and_moves_the_watermark()
    {
        var hold = new CorrectionHold(TimeSpan.Zero);
        var step = Step(10);

        Assert.Same(step, hold.Plan(step, W.AddSeconds(10)));
        Assert.Equal(W.AddSeconds(10), hold.WatermarkAfter(step, held: 0));
    }
}
