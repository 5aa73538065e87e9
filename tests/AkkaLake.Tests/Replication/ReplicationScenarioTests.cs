using AkkaLake.Demo;
using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class ReplicationScenarioTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private (IActorRef Coordinator, IActorRef Replication) Start(LakeSettings settings, IFaultPoints? faults = null)
    {
        var coordinator = StartCoordinator(settings, faults);
        return (coordinator, StartReplication(settings, coordinator));
    }

    private ReplicationProtocol.CycleCompleted Cycle(IActorRef replication, bool first = false)
    {
        if (!first) replication.Tell(ReplicationProtocol.Tick.Instance);
        return NextCycle();
    }

    [Fact]
    public async Task Replication_should_not_skip_rows_of_a_transaction_that_was_open_while_the_watermark_advanced()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 3, TimeSpan.FromMinutes(10), T0.AddHours(-3), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        var settings = Settings(source.ConnectionString, 4);
        var (_, replication) = Start(settings);
        Assert.True(Cycle(replication, first: true).Succeeded);

        // A long transaction starts: its rows get inserted_at = its start time.
        await using var longTx = await source.OpenAsync();
        await using var tx = await longTx.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO metrics (sensor_id, ts, value) VALUES ('sensor-0000', now() - interval '1 minute', 42)", longTx, tx))
            await insert.ExecuteNonQueryAsync();
        await Task.Delay(300);

        // Others commit after it started; the watermark must stay before the open transaction's start.
        await source.ExecuteAsync("INSERT INTO metrics (sensor_id, ts, value) VALUES ('sensor-0001', now() - interval '30 seconds', 7)");
        var during = Cycle(replication);
        Assert.True(during.Succeeded);
        await using (var startQuery = new NpgsqlCommand("SELECT now()", longTx, tx))
        {
            var txStart = (DateTime)(await startQuery.ExecuteScalarAsync())!;
            Assert.True(during.Manifest!.Metrics.ComputedThroughTs < new DateTimeOffset(txStart, TimeSpan.Zero));
        }

        await tx.CommitAsync();
        var after = Cycle(replication);
        Assert.True(after.Succeeded);

        var rows = LakeRows(settings);
        Assert.Contains(rows, r => r.SensorId == "sensor-0000" && r.Value == 42);
        Assert.Contains(rows, r => r.SensorId == "sensor-0001" && r.Value == 7);
        Assert.Equal((await source.RowsAsync()).Count, rows.Count);
    }

    [Theory]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-rename")]
    [InlineData("commit.after-manifest")]
    public async Task Coordinator_should_leave_a_batch_either_committed_or_never_happened_when_a_commit_dies_at_any_step(string point)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 6, TimeSpan.FromMinutes(10), T0.AddHours(-6), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        var settings = Settings(source.ConnectionString, 4);

        // The first backfill commit dies at the fault point.
        var (coordinator, replication) = Start(settings, new ThrowingFaults(point));
        var first = Cycle(replication, first: true);
        Stop(replication, coordinator);
        var store = new ManifestStore(settings.StatePath);
        var afterCrash = store.Load()!;
        if (point == "commit.after-manifest")
            Assert.True(first.Succeeded || afterCrash.CommitSeq > 0);
        else
            Assert.False(first.Succeeded);

        // A restart recovers, the re-run writes the batch once, and the lake equals Postgres.
        var (coordinator2, replication2) = Start(settings);
        Assert.True(Cycle(replication2, first: true).Succeeded);
        Stop(replication2, coordinator2);
        var manifest = store.Load()!;
        Assert.Null(manifest.PendingCommit);
        var referenced = manifest.ReferencedPaths(LakeLocation.Hot);
        var onDisk = Directory.GetFiles(Path.Combine(settings.HotPath, "metrics"), "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(settings.HotPath, p).Replace('\\', '/')).ToHashSet();
        Assert.Equal(referenced, onDisk);
        await AssertLakeHoldsEachSourceRowOnceAsync(settings, source);
    }

    [Fact]
    public async Task The_first_backfill_reports_each_day_done_to_its_listener_until_all_days_are()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 4, TimeSpan.FromMinutes(30), T0.AddDays(-4), T0.AddMinutes(-5));
        var settings = Settings(source.ConnectionString, 2);
        var coordinator = StartCoordinator(settings);
        StartReplication(settings, coordinator);

        var reports = new List<DaysProgress>();
        FishForMessage(m =>
        {
            if (m is DaysProgress p) reports.Add(p);
            return m is ReplicationProtocol.CycleCompleted;
        }, TimeSpan.FromSeconds(60));

        Assert.True(reports.Count >= 5, $"{reports.Count} reports");
        Assert.All(reports, r => Assert.Equal(reports[0].DaysTotal, r.DaysTotal));
        Assert.Equal(reports.Select(r => r.DaysDone).Order(), reports.Select(r => r.DaysDone));
        Assert.True(reports[^1].Complete);
        Assert.Equal((await source.RowsAsync()).Count, reports[^1].Rows);
        Assert.All(reports.SkipLast(1), r => Assert.False(r.Complete));
    }

    [Fact]
    public async Task A_writer_that_fails_mid_batch_fails_its_batch_and_the_retry_writes_its_rows()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 8, TimeSpan.FromMinutes(10), T0.AddHours(-6), T0.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        var settings = Settings(source.ConnectionString, 4);
        var coordinator = StartCoordinator(settings);
        var replication = Sys.ActorOf(ReplicationActor.Props(settings, coordinator, TestActor, new ReplicationJob.Once(), new ThrowingFaults("writer.after-part", once: true)));

        var failed = NextCycle();

        Assert.False(failed.Succeeded);
        Assert.Contains("writer failed", failed.Error);
        // Nothing was committed without the failed writer's rows, and its .tmp parts are gone.
        var manifest = Manifest(coordinator);
        Assert.Empty(manifest.Files());
        Assert.Null(manifest.Metrics.ComputedThroughTs);
        await AwaitAssertAsync(() => Assert.Empty(Directory.GetFiles(settings.HotPath, "*.tmp", SearchOption.AllDirectories)), TimeSpan.FromSeconds(10));

        replication.Tell(ReplicationProtocol.Tick.Instance);
        Assert.True(NextCycle().Succeeded);
        await AssertLakeHoldsEachSourceRowOnceAsync(settings, source);
    }

    [Fact]
    public void Replication_should_record_a_failure_and_keep_the_watermark_when_the_database_is_unreachable()
    {
        var settings = Settings("Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2", 4);
        var (coordinator, replication) = Start(settings);

        var first = Cycle(replication, first: true);

        Assert.False(first.Succeeded);
        Assert.Contains("reading the database clock", first.Error);
        var second = Cycle(replication);
        Assert.False(second.Succeeded);
        Stop(replication, coordinator);
        // Written off the coordinator's thread, which does not wait for it when it stops.
        AwaitAssert(() => Assert.Equal(ReplicationState.Failed, new ReplicationStateStore(settings.StatePath).Load()?.LastRunStatus), TimeSpan.FromSeconds(5));
        Assert.NotNull(new ReplicationStateStore(settings.StatePath).Load()!.LastRunError);
        var manifest = new ManifestStore(settings.StatePath).Load()!;
        Assert.Null(manifest.Metrics.ComputedThroughTs);
        Assert.Equal(0, manifest.CommitSeq);
    }

    [Fact]
    public async Task A_second_coordinator_on_the_same_lake_is_refused_naming_the_holder()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        var settings = Settings(source.ConnectionString, 4);
        Start(settings);
        var lifecycle = CreateTestProbe();
        Sys.ActorOf(LakeCoordinator.Props(settings, lifecycle));
        var failed = lifecycle.ExpectMsg<CoordinatorProtocol.StartFailed>(TimeSpan.FromSeconds(20));
        Assert.Contains($"pid {Environment.ProcessId}", failed.Reason);
    }
}
