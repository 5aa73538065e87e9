using System.Collections.Immutable;
using System.Text;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Takeover;
using Xunit;

namespace AkkaLake.Core.Tests.Takeover;

public class TakeoverPlanningTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly DatabaseClock Clock = new(Now, null, [], true);

    private const string FirstImplementationManifest = """
        {"schema_version": 1, "datasets": {"metrics/v1": {"computed_through_ts": "2026-11-25T11:00:00Z", "partitions": {
          "2026-11-24": {"location": "hot", "updated_at": "2026-11-25T11:00:00Z", "last_compacted_at": null, "file_count": 2},
          "2026-08-01": {"location": "cold", "updated_at": "2026-11-25T11:00:00Z", "last_compacted_at": null, "file_count": 1}}}}}
        """;

    [Fact]
    public void The_first_implementations_manifest_is_told_from_AkkaLakes_own_and_from_anything_else()
    {
        var legacy = FirstImplementationLake.TryParse(Encoding.UTF8.GetBytes(FirstImplementationManifest))!;
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero), legacy.Watermark);
        Assert.Equal("cold", legacy.Locations["2026-08-01"]);

        var own = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(LakeManifest.Create(4, Now), LakeJson.Options);
        Assert.Null(FirstImplementationLake.TryParse(own));
        Assert.Null(FirstImplementationLake.TryParse("{ not json"u8.ToArray()));
        using var state = new Testing.TempDirectory();
        File.WriteAllText(state.Combine(ManifestStore.FileName), FirstImplementationManifest);
        var e = Assert.Throws<ManifestUnreadableException>(() => new ManifestStore(state.Path).Load());
        Assert.Contains("first implementation", e.Message);
    }

    private static LakeManifest Adopted(params string[] days)
    {
        var cursor = Now.AddHours(-1);
        var adds = days.Select(d => new FileAdd(LakeLayout.ParseDateKey(d), 0, LakeLocation.Hot,
            new PartFile("data_0.parquet", 10, 100, Now, Now, null, cursor, 0, TakeoverState.FirstImplementationRunId, PartFile.FinalLevel))).ToImmutableList();
        var takeover = new TakeoverState(Now, cursor, days.Length, [.. days], null);
        return LakeManifest.Create(4, Now).Apply(new LakeCommit(CommitKind.Takeover, "a", adds, [], cursor,
            new BackfillState(cursor, days.Min()!, days.Max()!, [], Now, Now), takeover), Now, Now);
    }

    [Fact]
    public void A_takeover_rebuilds_every_day_newest_first_replacing_all_its_files_before_any_incremental_batch()
    {
        var m = Adopted("2026-11-23", "2026-11-24");
        var rebuilt = new List<DateOnly>();
        ReplicationStep step;
        while ((step = ReplicationPlanner.Next(m, Clock, TimeSpan.Zero, 90, Now)) is ReplicationStep.Rebuild r)
        {
            rebuilt.Add(r.Day);
            Assert.Equal(m.Metrics.ComputedThroughTs, r.Cursor);
            Assert.Equal(["data_0.parquet"], r.Replaces.Select(x => x.Name));
            m = m.Apply(ReplicationPlanner.CommitFor(r, "R", Now), Now, Now);
            Assert.Null(m.Partition(r.Day));
        }
        Assert.Equal([new DateOnly(2026, 11, 24), new DateOnly(2026, 11, 23)], rebuilt);
        Assert.NotNull(m.Metrics.Takeover!.CompletedAt);
        Assert.Empty(m.Metrics.Takeover.DaysLeft);
        Assert.IsType<ReplicationStep.Incremental>(step);
    }

    [Fact]
    public void Compaction_leaves_a_shard_day_of_the_first_implementation_to_the_takeover()
    {
        var m = Adopted("2026-11-20");
        m = m.Apply(new LakeCommit(CommitKind.Takeover, "a", [new FileAdd(new DateOnly(2026, 11, 20), 0, LakeLocation.Hot,
            new PartFile("data_1.parquet", 10, 100, Now, Now, null, Now, 0, TakeoverState.FirstImplementationRunId, PartFile.FinalLevel))], []), Now, Now);
        m = m.Apply(new LakeCommit(CommitKind.Takeover, "a", [new FileAdd(new DateOnly(2026, 11, 20), 0, LakeLocation.Hot,
            new PartFile("data_2.parquet", 10, 100, Now, Now, null, Now, 0, TakeoverState.FirstImplementationRunId, PartFile.FinalLevel))], []), Now, Now);
        Assert.Empty(Core.Compaction.CompactionPlanner.Plan(m, new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero), Core.Compaction.CompactionPolicy.Default));
        Assert.Empty(Core.Compaction.CompactionPlanner.Force(m, null, null));
    }
}
