using Akka.Event;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Tests.Replication;

/// <summary>What a plan reads of PostgreSQL before it is made: plain, no actor and no database.</summary>
public class JobPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly LakeSettings Settings = LakeSettingsParser.Parse(new Dictionary<string, string?> { ["hot-path"] = "/tmp/akkalake-planner-test" });

    private static SourceReads ReadsFor(ReplicationJob job, LakeManifest manifest, bool knowsNoRowsBefore = false) =>
        new JobPlanner(job, Settings, NoLogger.Instance, new ReplicationLog(NoLogger.Instance, Settings)).ReadsFor(manifest, knowsNoRowsBefore, Now);

    private static readonly LakeManifest Empty = LakeManifest.Create(16, Now);

    private static readonly LakeManifest Replicating = Empty with
    {
        Datasets = Empty.Datasets.SetItem(LakeLayout.Dataset, DatasetState.Empty with { ComputedThroughTs = Now.AddMinutes(-1) }),
    };

    [Fact]
    public void A_first_backfill_reads_the_first_day_holding_rows_once_and_reads_days_without_a_lag_guard()
    {
        var horizon = DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-Settings.HotRetentionDays);
        Assert.Equal(new SourceReads(NoRowsBefore: true, LagGuard: null, Days: true, BackfillFrom: horizon), ReadsFor(new ReplicationJob.Continuous(), Empty));
        Assert.Equal(new SourceReads(NoRowsBefore: false, LagGuard: null, Days: true, BackfillFrom: horizon), ReadsFor(new ReplicationJob.Continuous(), Empty, knowsNoRowsBefore: true));
        // By hand on an empty lake: the first backfill starts at the first day asked for.
        var first = horizon.AddDays(30);
        Assert.Equal(first, ReadsFor(new ReplicationJob.Backfill(first, first.AddDays(2), Replace: false), Empty).BackfillFrom);
    }

    [Fact]
    public void An_incremental_tick_counts_what_the_lag_guard_holds_back_and_reads_no_days_unless_one_is_to_be_rebuilt()
    {
        Assert.Equal(new SourceReads(false, Settings.ReplicationLag, false), ReadsFor(new ReplicationJob.Continuous(), Replicating));
        Assert.Equal(new SourceReads(false, Settings.ReplicationLag, true),
            ReadsFor(new ReplicationJob.Continuous(), Replicating.MarkForRebuild(DateOnly.FromDateTime(Now.UtcDateTime), new RebuildMark(Now, "it differs"), Now)));
    }

    [Fact]
    public void Days_asked_for_by_hand_are_read_as_days_and_a_backfill_by_hand_has_no_lag_guard()
    {
        var day = DateOnly.FromDateTime(Now.UtcDateTime);
        Assert.Equal(new SourceReads(false, null, true), ReadsFor(new ReplicationJob.Backfill(day, day, Replace: true), Replicating));
        Assert.Equal(new SourceReads(false, Settings.ReplicationLag, true), ReadsFor(new ReplicationJob.Rebuild([day]), Replicating));
    }
}
