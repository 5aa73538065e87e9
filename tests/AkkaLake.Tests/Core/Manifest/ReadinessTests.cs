using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Replication;
using Xunit;

namespace AkkaLake.Core.Tests.Manifest;

/// <summary>One rule says when the first backfill is done and when the lake is ready for checks, and one sentence refuses work before.</summary>
public class ReadinessTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static LakeManifest With(DateTimeOffset? watermark, TakeoverState? takeover = null)
    {
        var m = LakeManifest.Create(4, Now);
        return m with { Datasets = m.Datasets.SetItem(LakeLayout.Dataset, m.Metrics with { ComputedThroughTs = watermark, Takeover = takeover }) };
    }

    [Fact]
    public void A_lake_without_a_watermark_is_still_in_its_first_backfill_and_refuses_checks_in_one_sentence()
    {
        var metrics = With(null).Metrics;
        Assert.False(metrics.FirstBackfillDone);
        Assert.Equal(DatasetState.FirstBackfillRunning, metrics.NotReady);
        var refusal = Assert.Throws<LakeNotReadyException>(() => metrics.ReadyWatermark);
        Assert.Equal("The lake is not ready: the lake's first backfill has not completed yet; try again once it is.", refusal.Message);
        Assert.Equal(refusal.Message, ManualBackfill.Check(With(null), new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 2), replace: false).Refusal);
        Assert.Null(ReconcileSchedule.Default.Next(With(null), new Dictionary<DateOnly, DateTimeOffset>(), Now));
    }

    [Fact]
    public void A_takeover_still_rebuilding_days_has_a_watermark_but_is_not_ready()
    {
        var takeover = new TakeoverState(Now, Now, 3, ImmutableSortedSet.Create("2026-11-24", "2026-11-25"), null);
        var metrics = With(Now, takeover).Metrics;
        Assert.True(metrics.FirstBackfillDone);
        Assert.Contains("2 of 3 left", metrics.NotReady);
        Assert.StartsWith("The lake is not ready: the takeover", Assert.Throws<LakeNotReadyException>(() => metrics.ReadyWatermark).Message);

        var done = With(Now, takeover with { DaysLeft = [], CompletedAt = Now }).Metrics;
        Assert.Null(done.NotReady);
        Assert.Equal(Now, done.ReadyWatermark);
    }

    [Fact]
    public void The_rules_are_not_written_into_the_manifest()
    {
        var json = System.Text.Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(With(Now), LakeJson.Options));
        Assert.DoesNotContain("first_backfill_done", json);
        Assert.DoesNotContain("not_ready", json);
        Assert.DoesNotContain("\"metrics\":", json);
    }
}
