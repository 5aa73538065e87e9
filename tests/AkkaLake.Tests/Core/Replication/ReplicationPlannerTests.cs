using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class ReplicationPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly DatabaseClock Clock = new(Now, null, [], true);
    private static readonly TimeSpan Lag = TimeSpan.FromSeconds(60);

    private static LakeManifest Commit(LakeManifest m, ReplicationStep step) =>
        m.Apply(ReplicationPlanner.CommitFor(step, "R", Now), Now, Now);

    [Fact]
    public void An_empty_lake_starts_a_backfill_of_the_horizon_newest_day_first_with_the_newest_day_open_ended()
    {
        var step = Assert.IsType<ReplicationStep.Backfill>(ReplicationPlanner.Next(LakeManifest.Create(4, Now), Clock, Lag, 90, Now));
        Assert.Equal(new DateOnly(2026, 11, 25), step.Day);
        Assert.True(step.OpenEnded);
        Assert.False(step.IsLast);
        Assert.Equal("2026-08-27", step.After.FromDate);
        Assert.Equal(Now.AddSeconds(-60), step.After.Cursor);
        Assert.Equal(SourceWindow.BackfillDays.Day(step.Day, true, Now.AddSeconds(-60)), step.Window);
    }

    [Fact]
    public void Backfill_resumes_with_the_days_not_yet_committed_and_sets_the_watermark_only_when_complete()
    {
        var m = LakeManifest.Create(4, Now);
        var days = new List<DateOnly>();
        ReplicationStep step;
        while ((step = ReplicationPlanner.Next(m, Clock with { Now = Now.AddHours(days.Count) }, Lag, 2, Now)) is ReplicationStep.Backfill b)
        {
            days.Add(b.Day);
            Assert.False(b.OpenEnded && days.Count > 1);
            Assert.Null(m.Metrics.ComputedThroughTs);
            m = Commit(m, b);
        }
        Assert.Equal([new DateOnly(2026, 11, 25), new DateOnly(2026, 11, 24), new DateOnly(2026, 11, 23)], days);
        // The cursor chosen at the start is kept across the whole backfill and becomes the watermark.
        Assert.Equal(Now.AddSeconds(-60), m.Metrics.ComputedThroughTs);
        Assert.NotNull(m.Metrics.Backfill!.CompletedAt);
        var incremental = Assert.IsType<ReplicationStep.Incremental>(step);
        Assert.Equal(Now.AddSeconds(-60), incremental.After);
    }

    [Fact]
    public void A_backfill_in_one_pass_reads_every_day_it_has_left_as_one_step_and_completes_with_it()
    {
        var step = Assert.IsType<ReplicationStep.Backfill>(ReplicationPlanner.Next(LakeManifest.Create(4, Now), Clock, Lag, 90, Now, inOnePass: true));
        Assert.Equal(new SourceWindow.BackfillDays(new DateOnly(2026, 8, 27), new DateOnly(2026, 11, 25), true, Now.AddSeconds(-60)), step.Window);
        Assert.True(step.IsLast);
        Assert.Equal(91, step.After.DaysDone.Count);

        var m = Commit(LakeManifest.Create(4, Now), step);
        Assert.Equal(Now.AddSeconds(-60), m.Metrics.ComputedThroughTs);
        Assert.IsType<ReplicationStep.Incremental>(ReplicationPlanner.Next(m, Clock with { Now = Now.AddMinutes(5) }, Lag, 90, Now, inOnePass: true));
    }

    [Fact]
    public void A_backfill_begun_a_day_at_a_time_finishes_its_older_days_in_one_pass()
    {
        var m = LakeManifest.Create(4, Now);
        m = Commit(m, ReplicationPlanner.Next(m, Clock, Lag, 90, Now));
        m = Commit(m, ReplicationPlanner.Next(m, Clock, Lag, 90, Now));

        var pass = Assert.IsType<ReplicationStep.Backfill>(ReplicationPlanner.Next(m, Clock, Lag, 90, Now, inOnePass: true));
        // Not open-ended: the newest days are committed, and rows of later days are theirs.
        Assert.Equal(new SourceWindow.BackfillDays(new DateOnly(2026, 8, 27), new DateOnly(2026, 11, 23), false, Now.AddSeconds(-60)), pass.Window);
        Assert.NotNull(Commit(m, pass).Metrics.ComputedThroughTs);
    }

    [Fact]
    public void The_first_backfill_starts_at_the_horizon_or_the_day_asked_for_and_is_over_once_complete()
    {
        var today = new DateOnly(2026, 11, 25);
        var empty = LakeManifest.Create(4, Now);
        Assert.Equal(today.AddDays(-90), ReplicationPlanner.BackfillFrom(empty, 90, today));
        Assert.Equal(today.AddDays(-3), ReplicationPlanner.BackfillFrom(empty, 90, today, today.AddDays(-3)));
        var begun = Commit(empty, ReplicationPlanner.Next(empty, Clock, Lag, 90, Now));
        Assert.Equal(today.AddDays(-90), ReplicationPlanner.BackfillFrom(begun, 30, today));
        Assert.Null(ReplicationPlanner.BackfillFrom(Commit(empty, ReplicationPlanner.Next(empty, Clock, Lag, 90, Now, inOnePass: true)), 90, today));
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(90, "2026-11-23")]
    public void The_next_backfill_day_known_before_a_commit_is_the_one_planned_after_it(int retentionDays, string? noRowsBefore)
    {
        var empty = noRowsBefore is null ? default : DateOnly.Parse(noRowsBefore);
        var m = LakeManifest.Create(4, Now);
        var steps = 0;
        while (ReplicationPlanner.Next(m, Clock, Lag, retentionDays, Now, empty) is ReplicationStep.Backfill b)
        {
            var predicted = ReplicationPlanner.BackfillAfter(m, b, Clock, Lag, retentionDays, Now, empty);
            m = Commit(m, b);
            var planned = ReplicationPlanner.Next(m, Clock, Lag, retentionDays, Now, empty) as ReplicationStep.Backfill;
            Assert.Equal(planned?.Window, predicted?.Window);
            Assert.Equal(b.IsLast, predicted is null);
            steps++;
        }
        Assert.Equal(noRowsBefore is null ? 3 : 4, steps);
    }

    [Fact]
    public void After_backfill_each_batch_covers_watermark_to_bound_and_then_is_up_to_date()
    {
        var m = LakeManifest.Create(4, Now).Apply(new LakeCommit(CommitKind.Replication, "R", [], [], Now.AddMinutes(-5)), Now, Now);
        var step = Assert.IsType<ReplicationStep.Incremental>(ReplicationPlanner.Next(m, Clock, Lag, 90, Now));
        Assert.Equal(new SourceWindow.Inserted(Now.AddMinutes(-5), Now.AddSeconds(-60)), step.Window);
        m = Commit(m, step);
        Assert.IsType<ReplicationStep.UpToDate>(ReplicationPlanner.Next(m, Clock, Lag, 90, Now));
    }

    [Fact]
    public void Days_older_than_the_oldest_row_are_recorded_with_the_first_of_them_instead_of_scanned_one_by_one()
    {
        var m = LakeManifest.Create(4, Now);
        var days = new List<DateOnly>();
        var noRowsBefore = new DateOnly(2026, 11, 23);
        ReplicationStep step;
        while ((step = ReplicationPlanner.Next(m, Clock, Lag, 90, Now, noRowsBefore)) is ReplicationStep.Backfill b)
        {
            days.Add(b.Day);
            Assert.Equal(b.Day == new DateOnly(2026, 11, 22) ? 87 : 0, b.EmptyDaysBefore);
            m = Commit(m, b);
        }
        // Three days hold rows; the fourth is scanned once and the 87 older ones are recorded with it.
        Assert.Equal([new DateOnly(2026, 11, 25), new DateOnly(2026, 11, 24), new DateOnly(2026, 11, 23), new DateOnly(2026, 11, 22)], days);
        Assert.Equal(91, m.Metrics.Backfill!.DaysDone.Count);
        Assert.Equal(Now.AddSeconds(-60), m.Metrics.ComputedThroughTs);
        Assert.IsType<ReplicationStep.UpToDate>(step);
    }

    [Fact]
    public void An_empty_source_is_backfilled_with_one_scan_of_today()
    {
        var step = Assert.IsType<ReplicationStep.Backfill>(ReplicationPlanner.Next(LakeManifest.Create(4, Now), Clock, Lag, 90, Now, DateOnly.MaxValue));
        Assert.True(step.OpenEnded);
        Assert.True(step.IsLast);
        Assert.Equal(90, step.EmptyDaysBefore);
    }
}
