using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.State;
using AkkaLake.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Tests.Actors;

/// <summary>
/// The coordinator under failing and slow file work, no PostgreSQL: a write that fails while a
/// commit waits behind it loses nothing, and a slow disk (file work held at a fault point until the
/// test lets it go) never keeps it from answering or stopping. Order is asserted, not speed: the
/// timeouts only keep a broken test from hanging.
/// </summary>
public class CoordinatorFaultTests(ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly DateOnly Day = DateOnly.FromDateTime(DateTime.UtcNow);
    private int _runs;

    private LakeSettings Lake(params (string Key, string? Value)[] overrides) => Settings("Host=unused", 1, overrides);

    private IActorRef Start(LakeSettings settings, ScriptedFaults faults)
    {
        var lifecycle = CreateTestProbe();
        var coordinator = Sys.ActorOf(LakeCoordinator.Props(settings, lifecycle, faults));
        lifecycle.ExpectMsg<Ready>(TimeSpan.FromSeconds(20));
        return coordinator;
    }

    /// <summary>A replication batch of one part, as the replication actor would ask for it.</summary>
    private Commit Batch(LakeSettings settings, params FileRemove[] removes)
    {
        var run = $"run-{++_runs}";
        var rows = new MetricRows();
        for (var s = 0; s < 5; s++) rows.Add($"sensor-{s}", Timestamps.ToMicros(DateTimeOffset.UtcNow.Date) + _runs * 60_000_000L, s, 0, null, null);
        var meta = new PartMetadata(run, CommitKind.Replication, null, DateTimeOffset.UtcNow);
        var name = LakeLayout.FileName(PartKind.Incremental, run, 0);
        var tmp = LakeLayout.Resolve(settings.HotPath, LakeLayout.FilePath(Day, 0, name)) + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(tmp)!);
        var part = new StagedPart(Day, 0, LakeLocation.Hot, name, PartWriter.Write(tmp, rows, meta, 1_000), meta);
        var now = DateTimeOffset.UtcNow;
        return new Commit(new LakeCommit(CommitKind.Replication, run, [], [.. removes], now), [part],
            new RunReport(run, "replication", now, now, rows.Count, 1, part.Written.Bytes, null, now, null));
    }

    private CoordinatorStatus Status(IActorRef coordinator) => coordinator.Ask<CoordinatorStatus>(GetStatus.Instance, Patience).Result;

    private static void AssertInMemoryEqualsDisk(LakeSettings settings, CoordinatorStatus status)
    {
        var disk = new ManifestStore(settings.StatePath).Load()!;
        Assert.Equal(disk.CommitSeq, status.Manifest!.CommitSeq);
        Assert.Equal(disk.Files().Select(f => f.RelativePath).Order(), status.Manifest.Files().Select(f => f.RelativePath).Order());
    }

    [Fact]
    public void A_commit_queued_behind_a_failing_state_save_lands_and_the_next_commit_builds_on_it()
    {
        var settings = Lake();
        var coordinator = Start(settings, new ScriptedFaults().Pause("state.save", TimeSpan.FromMilliseconds(500)).Throw("state.save"));

        coordinator.Tell(new RecordFailure(RunReport.BeforeAnyBatch(DateTimeOffset.UtcNow), "the database was away"));
        coordinator.Tell(Batch(settings));
        var first = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));

        AwaitAssert(() => AssertInMemoryEqualsDisk(settings, Status(coordinator)), TimeSpan.FromSeconds(5));
        coordinator.Tell(Batch(settings));
        var second = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        Assert.Equal(first.Manifest.CommitSeq + 1, second.Manifest.CommitSeq);
        Assert.Equal(2, second.Manifest.Files().Count());
        AssertInMemoryEqualsDisk(settings, Status(coordinator));
        // The commit's own state save came after the failed one, so replication.json is current.
        AwaitAssert(() => Assert.Equal(new ManifestStore(settings.StatePath).Load()!.Metrics.ComputedThroughTs, new ReplicationStateStore(settings.StatePath).Load()?.ComputedThroughTs),
            TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_commit_queued_behind_a_failing_deletion_lands_and_the_next_commit_builds_on_it()
    {
        var settings = Lake(("delete-grace-seconds", "1"));
        var coordinator = Start(settings, new ScriptedFaults().Pause("delete.due", TimeSpan.FromMilliseconds(500)).Throw("delete.due"));
        coordinator.Tell(Batch(settings));
        var first = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        // The next batch replaces the first's file: it waits for its deletion past a grace of 1 s.
        coordinator.Tell(Batch(settings, new FileRemove(Day, 0, first.Manifest.Files().Single().File.Name)));
        ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        Thread.Sleep(1_200);

        coordinator.Tell(DeleteDueFiles.Instance);
        coordinator.Tell(Batch(settings));
        var third = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));

        AssertInMemoryEqualsDisk(settings, Status(coordinator));
        Assert.Single(third.Manifest.PendingDeletions, d => d.DueAt <= DateTimeOffset.UtcNow);
        coordinator.Tell(Batch(settings));
        var fourth = ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10));
        Assert.Equal(third.Manifest.CommitSeq + 1, fourth.Manifest.CommitSeq);
        AssertInMemoryEqualsDisk(settings, Status(coordinator));
    }

    [Fact]
    public async Task While_a_failed_commit_is_held_being_undone_the_coordinator_answers_and_serves_the_next_commit_after()
    {
        var settings = Lake();
        var faults = new ScriptedFaults().Throw("commit.after-rename");
        var undo = faults.Hold("commit.undo");
        var coordinator = Start(settings, faults);

        coordinator.Tell(Batch(settings));
        await undo.Reached.WaitAsync(Patience);
        Assert.StartsWith("undoing", Status(coordinator).Mode);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        undo.Release();
        Assert.Contains("injected crash at commit.after-rename", ExpectMsg<CommitFailed>(Patience).Reason);
        var status = Status(coordinator);
        Assert.Equal("serving", status.Mode);
        Assert.Empty(status.Manifest!.Files());
        AssertInMemoryEqualsDisk(settings, status);

        coordinator.Tell(Batch(settings));
        Assert.Single(ExpectMsg<CommitSucceeded>(TimeSpan.FromSeconds(10)).Manifest.Files());
    }

    [Fact]
    public async Task A_held_state_save_keeps_nothing_waiting()
    {
        var settings = Lake();
        var faults = new ScriptedFaults();
        var save = faults.Hold("state.save");
        var coordinator = Start(settings, faults);

        coordinator.Tell(new RecordFailure(RunReport.BeforeAnyBatch(DateTimeOffset.UtcNow), "the database was away"));
        await save.Reached.WaitAsync(Patience);
        Assert.Equal("serving", (await coordinator.Ask<CoordinatorStatus>(GetStatus.Instance, Patience)).Mode);
        Assert.Empty((await coordinator.Ask<ManifestSnapshot>(GetManifest.Instance, Patience)).Manifest.Files());
        Assert.False(save.IsOpen);
        save.Release();
    }

    [Fact]
    public async Task Stopped_in_the_middle_of_a_held_commit_it_stops_before_the_commit_ends_and_the_lake_opens_again_once_it_is_done()
    {
        var settings = Lake();
        var faults = new ScriptedFaults();
        var rename = faults.Hold("commit.after-rename");
        var coordinator = Start(settings, faults);
        coordinator.Tell(Batch(settings));
        await rename.Reached.WaitAsync(Patience);
        Assert.StartsWith("committing", Status(coordinator).Mode);

        Watch(coordinator);
        Sys.Stop(coordinator);
        ExpectTerminated(coordinator, Patience);
        Assert.False(rename.IsOpen);
        Assert.NotNull(Core.Locking.LakeLock.Holder(settings.StatePath));

        // The commit runs to its end with the lock held: the next writer gets the lake after it, committed.
        rename.Release();
        AwaitAssert(() => Assert.Null(Core.Locking.LakeLock.Holder(settings.StatePath)), Patience);
        var reopened = Start(settings, new ScriptedFaults());
        var status = Status(reopened);
        Assert.Single(status.Manifest!.Files());
        Assert.Null(status.Manifest.PendingCommit);
    }
}
