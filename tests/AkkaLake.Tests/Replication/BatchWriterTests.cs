using Akka.Actor;
using Akka.Streams;
using AkkaLake.Actors.Replication;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Storage;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

/// <summary>The batch writer alone: its COPY is a stream of chunks in hand, its parent a probe; no PostgreSQL.</summary>
public class BatchWriterTests(ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    /// <summary>An export of 2 days x 6 sensors x 10 readings, in chunks of 40 rows, routed to 2 shards.</summary>
    private SourceExport Export(int shards)
    {
        var chunks = new List<SourceChunk>();
        var router = new RowRouter(shards, _ => LakeLocation.Hot);
        var rows = new MetricRows();
        foreach (var day in new[] { -1, 0 })
            for (var sensor = 0; sensor < 6; sensor++)
                for (var i = 0; i < 10; i++)
                {
                    rows.Add($"sensor-{sensor}", Timestamps.ToMicros(T0.AddDays(day).AddMinutes(-i)), sensor + i, 1, null, null);
                    if (rows.Count < 40) continue;
                    chunks.Add(new SourceChunk(router.Route(rows), new SkippedRows(), 0, 0, Timestamps.ToMicros(T0)));
                    rows = new MetricRows();
                }
        if (rows.Count > 0) chunks.Add(new SourceChunk(router.Route(rows), new SkippedRows(), 0, 0, Timestamps.ToMicros(T0)));
        return SourceExport.Of(chunks, Sys.Materializer(SourceExport.MaterializerSettings(Sys)));
    }

    private static BatchWriter.Job Job(SourceExport export, int shards) =>
        new(new ReplicationStep.Incremental(T0.AddHours(-1), new CursorBound(T0, CursorLimit.Lag)), "run-1", LakeManifest.Create(shards, T0), export, ActorRefs.Nobody);

    [Fact]
    public void Each_shard_day_gets_a_tmp_part_and_the_parent_hears_exported_then_written_with_every_row()
    {
        var settings = Settings("Host=unused", 2);
        var parent = CreateTestProbe();

        parent.ChildActorOf(BatchWriter.Props(Job(Export(2), 2), settings, FaultPoints.None));

        parent.ExpectMsg<BatchWriter.Exported>(TimeSpan.FromSeconds(20));
        var written = parent.ExpectMsg<BatchWriter.Written>(TimeSpan.FromSeconds(20));
        Assert.Equal(120, written.Tally.Rows);
        Assert.Equal(120, written.Parts.Sum(p => p.Written.Rows));
        Assert.Equal(written.Parts.Count, written.Parts.Select(p => (p.Date, p.Shard)).Distinct().Count());
        Assert.All(written.Parts, p => Assert.True(File.Exists(p.Written.TmpPath), p.Written.TmpPath));
        Assert.All(written.Parts, p => Assert.Equal(CommitKind.Replication, p.Metadata.Kind));
        Assert.Empty(written.Replaced);
    }

    [Fact]
    public void A_shard_day_writer_that_throws_fails_the_batch_and_stopping_the_batch_writer_deletes_its_tmp_parts()
    {
        var settings = Settings("Host=unused", 2);
        var parent = CreateTestProbe();

        var writer = parent.ChildActorOf(BatchWriter.Props(Job(Export(2), 2), settings, new ThrowingFaults("writer.after-part", once: true)));

        parent.ExpectMsg<BatchWriter.Exported>(TimeSpan.FromSeconds(20));
        var failed = parent.ExpectMsg<BatchWriter.Failed>(TimeSpan.FromSeconds(20));
        Assert.StartsWith("writing ", failed.Stage);
        Assert.False(failed.Conflict);
        parent.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer, TimeSpan.FromSeconds(10));
        AwaitAssert(() => Assert.Empty(Directory.GetFiles(settings.HotPath, "*.tmp", SearchOption.AllDirectories)), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_batch_whose_parts_hold_fewer_rows_than_it_read_fails_rather_than_commits()
    {
        var settings = Settings("Host=unused", 2);
        var parent = CreateTestProbe();

        // A writer that leaves a chunk of its merged rows out, as a defect in the merge would.
        parent.ChildActorOf(BatchWriter.Props(Job(Export(2), 2), settings, new ScriptedFaults().Skip("writer.append")));

        parent.ExpectMsg<BatchWriter.Exported>(TimeSpan.FromSeconds(20));
        var failed = parent.ExpectMsg<BatchWriter.Failed>(TimeSpan.FromSeconds(20));
        Assert.Equal("checking the batch's rows", failed.Stage);
        Assert.Contains("but it read 120", failed.Error.Message);
        parent.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
