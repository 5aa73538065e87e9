using Akka.Actor;
using AkkaLake.Actors.Compaction;
using AkkaLake.Actors.Reconciliation;
using AkkaLake.Actors.Replication;
using AkkaLake.Actors.Retention;
using AkkaLake.Actors.Writers;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Retention;
using AkkaLake.Core.Storage;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Actors;

/// <summary>The compaction, retention, reconciliation, replication, shard-day writer and coordinator actors alone, a probe in the coordinator's place; a lake on disk, no PostgreSQL.</summary>
public class LakeActorsTests(ITestOutputHelper output) : LakeTestKit(output)
{
    private static LakeSettings SettingsFor(LakeFixture lake) => LakeSettingsParser.Parse(new Dictionary<string, string?>
    {
        ["hot-path"] = lake.Roots.Hot,
        ["cold-path"] = lake.Roots.Cold,
        ["shards"] = "1",
    });

    [Fact]
    public void Compaction_merges_a_finished_day_into_one_file_and_asks_for_one_swap_and_drops_its_output_when_refused()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2);
        for (var tick = 0; tick < 4; tick++) lake.Tick(day, LakeFixture.FiveSensorsAt(day, tick));
        var coordinator = CreateTestProbe();

        Sys.ActorOf(CompactionActor.Props(coordinator, SettingsFor(lake), CompactionPolicy.Default, FaultPoints.None));
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));

        var commit = coordinator.ExpectMsg<Commit>(TimeSpan.FromSeconds(20));
        Assert.Equal(CommitKind.Compaction, commit.Change.Kind);
        Assert.Equal(4, commit.Change.Removes.Count);
        var output = Assert.Single(commit.Parts);
        Assert.Equal(20, output.Written.Rows);
        Assert.True(File.Exists(output.Written.TmpPath));

        coordinator.Reply(new CommitFailed("the shard-day changed meanwhile", Conflict: true));
        coordinator.ExpectMsg<GetManifest>();
        AwaitAssert(() => Assert.False(File.Exists(output.Written.TmpPath)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Compaction_that_stops_after_its_merge_but_before_asking_for_the_commit_leaves_no_tmp_output()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2);
        for (var tick = 0; tick < 4; tick++) lake.Tick(day, LakeFixture.FiveSensorsAt(day, tick));
        var coordinator = CreateTestProbe();

        // The merge is done; the actor fails just before asking for the commit and is restarted.
        Sys.ActorOf(CompactionActor.Props(coordinator, SettingsFor(lake), CompactionPolicy.Default, new ThrowingFaults("compaction.before-commit", once: true)));
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));
        coordinator.ExpectMsg<GetManifest>(TimeSpan.FromSeconds(20));

        Assert.Empty(Directory.GetFiles(lake.Roots.Hot, "*.tmp", SearchOption.AllDirectories));
        Assert.True(lake.DiskMatchesManifest());
    }

    [Fact]
    public void Retention_copies_a_partition_past_the_horizon_to_the_cold_path_before_asking_to_move_it()
    {
        using var lake = new LakeFixture(withCold: true);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-100);
        lake.Tick(day, LakeFixture.FiveSensorsAt(day, 0));
        lake.Tick(day, LakeFixture.FiveSensorsAt(day, 1));
        var coordinator = CreateTestProbe();

        var retention = Sys.ActorOf(RetentionActor.Props(coordinator, SettingsFor(lake), FaultPoints.None));
        retention.Tell(new ManifestSnapshot(lake.Manifest), coordinator);

        var move = coordinator.ExpectMsg<MovePartition>(TimeSpan.FromSeconds(20));
        Assert.Equal((day, LakeLocation.Hot, LakeLocation.Cold), (move.Date, move.From, move.To));
        Assert.Equal(lake.Manifest.ReferencedPaths(LakeLocation.Hot).ToHashSet(), move.Copied.ToHashSet());
        // Staged beside their final names for the coordinator's commit to publish; the hot files untouched.
        Assert.All(move.Copied, path => Assert.True(File.Exists(LakeLayout.Resolve(lake.Roots.Cold!, PartitionCopier.StagedCopy(path))), path));
        Assert.All(move.Copied, path => Assert.True(File.Exists(LakeLayout.Resolve(lake.Roots.Hot, path)), path));

        // Refused, the staged copies go (off the actor's thread) and the partition stays hot.
        coordinator.Reply(new CommitFailed("the partition changed meanwhile", Conflict: true));
        coordinator.ExpectMsg<GetManifest>();
        AwaitAssert(() => Assert.All(move.Copied, path => Assert.False(File.Exists(LakeLayout.Resolve(lake.Roots.Cold!, PartitionCopier.StagedCopy(path))), path)), TimeSpan.FromSeconds(5));
        Assert.All(move.Copied, path => Assert.True(File.Exists(LakeLayout.Resolve(lake.Roots.Hot, path)), path));
    }

    [Fact]
    public void Replication_that_cannot_reach_the_database_records_the_failure_with_the_coordinator_and_commits_nothing()
    {
        using var lake = new LakeFixture(withCold: false);
        var settings = SettingsFor(lake) with { DatabaseUrl = "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2" };
        var coordinator = CreateTestProbe();
        var listener = CreateTestProbe();

        Sys.ActorOf(ReplicationActor.Props(settings, coordinator, listener, new ReplicationJob.Once()));
        coordinator.ExpectMsg<GetManifest>();
        coordinator.Reply(new ManifestSnapshot(lake.Manifest));

        var failure = coordinator.ExpectMsg<RecordFailure>(TimeSpan.FromSeconds(20));
        Assert.Contains("reading the database clock", failure.Error);
        Assert.Equal(0, failure.Report.Rows);
        var cycle = listener.ExpectMsg<ReplicationProtocol.CycleCompleted>(TimeSpan.FromSeconds(5));
        Assert.False(cycle.Succeeded);
        coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_shard_day_writer_spills_its_buffer_as_a_sorted_run_to_scratch_and_merges_every_run_into_one_part_on_flush()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = new DateOnly(2026, 11, 20);
        var meta = new Core.Parquet.PartMetadata("run-7", CommitKind.Replication, null, DateTimeOffset.UtcNow);
        var scratch = Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "tmp", "writer.run");
        var settings = new ShardDayWriter.Settings(new Core.Replication.ShardDay(day, 0), LakeLocation.Hot, lake.Roots.Hot, PartKind.Incremental, meta, 1_000, 1L << 30, [], scratch);
        var writer = Sys.ActorOf(ShardDayWriter.Props(settings, FaultPoints.None));
        Core.Parquet.MetricRows Rows(int tick)
        {
            var rows = new Core.Parquet.MetricRows();
            foreach (var (id, ts, value) in LakeFixture.FiveSensorsAt(day, tick)) rows.Add(id, ts, value, 1, null, null);
            return rows;
        }

        writer.Tell(new ShardDayWriter.Append([Rows(0)]));
        writer.Tell(new ShardDayWriter.Append([Rows(2)]));
        writer.Tell(ShardDayWriter.Spill.Instance);
        Assert.Equal(10, ExpectMsg<ShardDayWriter.Spilled>(TimeSpan.FromSeconds(10)).Rows);
        Assert.True(File.Exists(scratch));
        Assert.False(Directory.Exists(Path.Combine(lake.Roots.Hot, "metrics")));
        writer.Tell(new ShardDayWriter.Append([Rows(1)]));
        writer.Tell(ShardDayWriter.Flush.Instance);

        var flushed = ExpectMsg<ShardDayWriter.Flushed>(TimeSpan.FromSeconds(10));
        var part = Assert.Single(flushed.Parts);
        Assert.Equal(15, part.Written.Rows);
        using (var reader = new Core.Parquet.PartReader(part.Written.TmpPath))
        {
            var rows = reader.ReadAll();
            Assert.True(rows.IsSorted());
            Assert.Equal(LakeFixture.FiveSensorsAt(day, 0).Concat(LakeFixture.FiveSensorsAt(day, 1)).Concat(LakeFixture.FiveSensorsAt(day, 2)).Select(r => (r.Item1, r.Item2)).Order(),
                Enumerable.Range(0, rows.Count).Select(i => (rows.SensorIds[i], rows.TsMicros[i])).Order());
        }
        Assert.False(File.Exists(scratch));
        Assert.Empty(flushed.Rewrite.Removes);

        // Stopped before a commit published them, it deletes its parts (off its thread: it does not wait).
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);
        AwaitAssert(() => Assert.False(File.Exists(part.Written.TmpPath)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_shard_day_writer_cuts_a_live_day_written_whole_at_its_slice_cuts_keeping_the_older_part_final()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = new DateOnly(2026, 11, 20);
        var dayStart = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var meta = new Core.Parquet.PartMetadata("run-9", CommitKind.Backfill, null, DateTimeOffset.UtcNow);
        var scratch = Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "tmp", "cut.run");
        var settings = new ShardDayWriter.Settings(new Core.Replication.ShardDay(day, 0), LakeLocation.Hot, lake.Roots.Hot, PartKind.Backfill, meta, 1_000, 1L << 30, [], scratch,
            SliceCuts: [dayStart.AddMinutes(10), dayStart.AddMinutes(15)]);
        var writer = Sys.ActorOf(ShardDayWriter.Props(settings, FaultPoints.None));
        var rows = new Core.Parquet.MetricRows();
        foreach (var minute in new[] { 0, 9, 10, 14, 15, 16 })
            foreach (var (id, ts, value) in LakeFixture.FiveSensorsAt(day, minute)) rows.Add(id, ts, value, 1, null, null);

        writer.Tell(new ShardDayWriter.Append([rows]));
        writer.Tell(ShardDayWriter.Flush.Instance);

        var parts = ExpectMsg<ShardDayWriter.Flushed>(TimeSpan.FromSeconds(10)).Parts;
        Assert.Equal([(10L, PartFile.FinalLevel, 0), (10L, 0, 10), (10L, 0, 15)],
            parts.Select(p => (p.Written.Rows, p.Level, (int)(Core.Timestamps.FromMicros(p.Written.MinTsMicros) - dayStart).TotalMinutes)));
        Assert.Equal(3, parts.Select(p => p.FileName).Distinct().Count());
    }

    [Fact]
    public void A_shard_day_writer_holding_corrections_keeps_every_row_of_the_head_it_absorbs_even_one_as_old_as_a_committed_file()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = new DateOnly(2026, 11, 20);
        var t = LakeLayout.StartMicros(day) + 3_600_000_000L;
        const long s = 1_000_000;
        // A committed file ending at 01:00:10, and the open head holding a reading of another sensor at 01:00:10 too
        // (it came in a later batch than the file's, as a late sensor's does), so the head starts before the file ends.
        var committed = CommittedParts.Write(Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "part-a.parquet"), 0, ("s1", t, 1), ("s1", t + 10 * s, 2));
        var head = CommittedParts.Write(Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "part-b.parquet"), 0, ("s2", t + 10 * s, 3), ("s2", t + 20 * s, 4));
        var scratch = Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "tmp", "hold.run");
        var settings = new ShardDayWriter.Settings(new Core.Replication.ShardDay(day, 0), LakeLocation.Hot, lake.Roots.Hot, PartKind.Incremental,
            new Core.Parquet.PartMetadata("run-7", CommitKind.Replication, null, null), 1_000, 1L << 30, [committed], scratch, head, HoldsCorrections: true);
        var writer = Sys.ActorOf(ShardDayWriter.Props(settings, FaultPoints.None));
        var rows = new Core.Parquet.MetricRows();
        rows.Add("s1", t + 30 * s, 5, 0, null, null);
        // A re-sent reading of the committed file's time: held for a later batch.
        rows.Add("s3", t, 6, 0, null, null);

        writer.Tell(new ShardDayWriter.Append([rows]));
        writer.Tell(ShardDayWriter.Flush.Instance);

        var flushed = ExpectMsg<ShardDayWriter.Flushed>(TimeSpan.FromSeconds(10));
        Assert.Equal(1, flushed.Held);
        Assert.Equal(head.File, flushed.AbsorbedHead);
        Assert.Equal(2, flushed.HeadRowsKept);
        var part = Assert.Single(flushed.Parts);
        Assert.Equal([("s1", t + 30 * s), ("s2", t + 10 * s), ("s2", t + 20 * s)],
            LakeDuckDb.ReadFile(part.Written.TmpPath).Select(r => (r.SensorId, Core.Timestamps.ToMicros(new DateTimeOffset(r.Ts, TimeSpan.Zero)))));
    }

    [Fact]
    public async Task A_shard_day_writer_stopped_while_its_spill_waits_for_a_write_slot_never_writes_it()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = new DateOnly(2026, 11, 20);
        var limiter = AkkaLake.Actors.WriteLimits.Use(Sys, new WriteLimiter(1));
        Assert.Equal(1, limiter.Slots);
        var release = new TaskCompletionSource();
        var busy = limiter.RunAsync("a long merge", () => release.Task.Wait(TimeSpan.FromMinutes(1)));
        // The merge runs on the pool: until it holds the slot, the spill could take it first and finish.
        await AwaitConditionAsync(() => Task.FromResult(limiter.Holders.Count == 1), TimeSpan.FromSeconds(10));
        var scratch = Path.Combine(Path.GetDirectoryName(lake.Roots.Hot)!, "tmp", "stopped.run");
        var settings = new ShardDayWriter.Settings(new Core.Replication.ShardDay(day, 0), LakeLocation.Hot, lake.Roots.Hot, PartKind.Incremental,
            new Core.Parquet.PartMetadata("run-8", CommitKind.Replication, null, DateTimeOffset.UtcNow), 1_000, 1L << 30, [], scratch);
        var writer = Sys.ActorOf(ShardDayWriter.Props(settings, FaultPoints.None));
        var rows = new Core.Parquet.MetricRows();
        foreach (var (id, ts, value) in LakeFixture.FiveSensorsAt(day, 0)) rows.Add(id, ts, value, 1, null, null);

        writer.Tell(new ShardDayWriter.Append([rows]));
        writer.Tell(ShardDayWriter.Spill.Instance);
        // Awaited, not waited on: a test thread blocked here is one fewer for the pool that runs the spill it waits for.
        await AwaitConditionAsync(() => Task.FromResult(limiter.Waiting == 1), TimeSpan.FromSeconds(10));
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);

        // Its spill gave up its place in the queue: it never runs once the slot is free.
        await AwaitConditionAsync(() => Task.FromResult(limiter.Waiting == 0), TimeSpan.FromSeconds(10));
        release.SetResult();
        await busy;
        Assert.Equal(3, await limiter.RunAsync("the next piece of work", () => 3));
        Assert.False(File.Exists(scratch));
    }

    [Fact]
    public void The_coordinator_publishes_a_batch_in_one_commit_refuses_one_that_removes_what_the_lake_lacks_and_keeps_the_days_to_rebuild_across_restarts()
    {
        var settings = Settings("Host=unused", 1, ("delete-grace-seconds", "0"));
        var coordinator = StartCoordinator(settings);
        var day = new DateOnly(2026, 11, 20);
        var meta = new Core.Parquet.PartMetadata("run-1", CommitKind.Replication, null, DateTimeOffset.UtcNow);
        var rows = new Core.Parquet.MetricRows();
        foreach (var (id, ts, value) in LakeFixture.FiveSensorsAt(day, 0)) rows.Add(id, ts, value, 1, null, null);
        var name = LakeLayout.FileName(PartKind.Incremental, "run-1", 0);
        var tmp = LakeLayout.Resolve(settings.HotPath, LakeLayout.FilePath(day, 0, name)) + AtomicFile.TmpSuffix;
        Directory.CreateDirectory(Path.GetDirectoryName(tmp)!);
        var part = new StagedPart(day, 0, LakeLocation.Hot, name, Core.Parquet.PartWriter.Write(tmp, rows, meta, 1_000), meta);

        coordinator.Tell(new Commit(new LakeCommit(CommitKind.Replication, "run-1", [], [], DateTimeOffset.UtcNow), [part], null));
        var committed = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        Assert.Equal(5, committed.Manifest.Files().Sum(f => f.File.Rows));
        Assert.True(File.Exists(LakeLayout.Resolve(settings.HotPath, part.RelativePath)));
        Assert.False(File.Exists(tmp));

        coordinator.Tell(new Commit(new LakeCommit(CommitKind.Compaction, "run-2", [], [new FileRemove(day, 0, "part-none-0000.parquet")]), [], null));
        Assert.True(ExpectMsg<CommitFailed>(TimeSpan.FromSeconds(10)).Conflict);

        coordinator.Tell(new MarkForRebuild(day, "it differs", DateTimeOffset.UtcNow));
        ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        // Kept in the manifest, not in the coordinator's memory: a restarted daemon still rebuilds the day.
        Stop(coordinator);
        var reopened = StartCoordinator(settings);
        var snapshot = Manifest(reopened);
        Assert.Equal(["2026-11-20"], snapshot.Metrics.DaysToRebuild!.Keys);
        Assert.Equal(committed.Manifest.Files().Select(f => f.RelativePath), snapshot.Files().Select(f => f.RelativePath));
    }

    [Fact]
    public void Reconciliation_that_cannot_reach_the_database_never_asks_for_a_rebuild_and_keeps_ticking()
    {
        using var lake = new LakeFixture(withCold: false);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);
        lake.Tick(day, LakeFixture.FiveSensorsAt(day, 0));
        var settings = SettingsFor(lake) with { DatabaseUrl = "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2" };
        var coordinator = CreateTestProbe();

        Sys.ActorOf(ReconciliationActor.Props(coordinator, settings, ReconcileSchedule.Default, TimeSpan.FromMilliseconds(200), FaultPoints.None));
        var messages = new List<object>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < deadline)
        {
            var message = coordinator.ReceiveOne(TimeSpan.FromMilliseconds(500));
            if (message is null) continue;
            messages.Add(message);
            if (message is GetManifest) coordinator.Reply(new ManifestSnapshot(lake.Manifest));
        }

        Assert.True(messages.Count(m => m is GetManifest) >= 3, $"{messages.Count} messages");
        Assert.DoesNotContain(messages, m => m is MarkForRebuild);
    }
}
