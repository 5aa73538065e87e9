using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class ReplicationStepTests
{
    private static readonly DateTimeOffset Cursor = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 11, 25);

    [Fact]
    public void A_backfill_day_is_written_whole_at_the_final_level_and_commits_as_a_backfill_up_to_its_cursor()
    {
        var step = new ReplicationStep.Backfill(new BackfillState(Cursor, "2026-08-28", "2026-11-26", [], Cursor, null), Day, OpenEnded: false, IsLast: false);

        Assert.Equal(PartKind.Backfill, step.PartKind);
        Assert.Equal(CommitKind.Backfill, step.CommitKind);
        Assert.Equal((null, Cursor), step.CursorRange);
        Assert.Equal(SourceWindow.BackfillDays.Day(Day, false, Cursor), step.ExportWindow);
        Assert.True(step.IsDay);
    }

    [Fact]
    public void An_incremental_batch_covers_inserted_at_from_the_watermark_to_its_bound()
    {
        var after = Cursor.AddMinutes(-1);
        var step = new ReplicationStep.Incremental(after, new CursorBound(Cursor, CursorLimit.Lag));

        Assert.Equal(PartKind.Incremental, step.PartKind);
        Assert.Equal(CommitKind.Replication, step.CommitKind);
        Assert.Equal((after, Cursor), step.CursorRange);
        Assert.Equal(new SourceWindow.Inserted(after, Cursor), step.ExportWindow);
        Assert.False(step.IsDay);
    }

    [Fact]
    public void A_rebuild_reads_its_day_up_to_the_watermark_and_an_up_to_date_step_exports_nothing()
    {
        var rebuild = new ReplicationStep.Rebuild(Day, LakeLocation.Hot, Cursor, ImmutableList<FileRemove>.Empty);
        Assert.Equal(PartKind.Backfill, rebuild.PartKind);
        Assert.Equal((null, Cursor), rebuild.CursorRange);
        Assert.Equal(SourceWindow.BackfillDays.Day(Day, false, Cursor), rebuild.ExportWindow);

        var upToDate = new ReplicationStep.UpToDate(Cursor, new CursorBound(Cursor, CursorLimit.Lag));
        Assert.Throws<InvalidOperationException>(() => upToDate.ExportWindow);
    }
}
