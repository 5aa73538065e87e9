using Akka.Actor;
using Akka.TestKit.Xunit2;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;
using AkkaLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Support;

/// <summary>
/// A TestKit with a private lake directory and the steps every actor scenario takes. Its actor
/// system logs (from INFO) into the test's own output, which the console shows only when the test fails.
/// </summary>
public abstract class LakeTestKit(ITestOutputHelper output) : TestKit(Quiet, output), IDisposable
{
    /// <summary>Logs to the test's output only: nothing on the console, not even the actor system's own lines.</summary>
    public const string Quiet = "akka.loglevel = INFO\nakka.stdout-loglevel = OFF\nakka.loggers = [\"AkkaLake.Tests.Support.QuietTestEventListener, AkkaLake.Tests\"]";

    protected TempDirectory Dir { get; } = new();

    /// <summary>Settings for a lake in <see cref="Dir"/> with no cursor lag; overrides by HOCON key.</summary>
    protected LakeSettings Settings(string databaseUrl, int shards, params (string Key, string? Value)[] overrides)
    {
        var values = new Dictionary<string, string?>
        {
            ["data-root"] = Dir.Path,
            ["shards"] = shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["database-url"] = databaseUrl,
            ["replication-lag-seconds"] = "0",
            // Not left to the estimates, which turn on whether autovacuum has analyzed the table yet.
            ["first-backfill-read"] = "by-day",
        };
        foreach (var (key, value) in overrides) values[key] = value;
        return LakeSettingsParser.Parse(values);
    }

    private readonly HashSet<IActorRef> _coordinators = [];

    /// <summary>Starts a coordinator and waits until it has loaded and recovered the lake.</summary>
    protected IActorRef StartCoordinator(LakeSettings settings, IFaultPoints? faults = null, CompactionPolicy? policy = null)
    {
        var lifecycle = CreateTestProbe();
        var coordinator = Sys.ActorOf(LakeCoordinator.Props(settings, lifecycle, faults, policy));
        lifecycle.ExpectMsg<CoordinatorProtocol.Ready>(TimeSpan.FromSeconds(20));
        _coordinators.Add(coordinator);
        return coordinator;
    }

    /// <summary>A replication actor doing one cycle now and one per <see cref="ReplicationProtocol.Tick"/>, reporting to the test actor.</summary>
    protected IActorRef StartReplication(LakeSettings settings, IActorRef coordinator) =>
        Sys.ActorOf(ReplicationActor.Props(settings, coordinator, TestActor, new ReplicationJob.Once()));

    /// <summary>The end of the next cycle, passing over the progress the actor reports for each day of a backfill.</summary>
    protected ReplicationProtocol.CycleCompleted NextCycle() =>
        (ReplicationProtocol.CycleCompleted)FishForMessage(m => m is ReplicationProtocol.CycleCompleted, TimeSpan.FromSeconds(60));

    protected LakeManifest Manifest(IActorRef coordinator) =>
        coordinator.Ask<CoordinatorProtocol.ManifestSnapshot>(CoordinatorProtocol.GetManifest.Instance, TimeSpan.FromSeconds(10)).Result.Manifest;

    /// <summary>Stops the actors; a stopped coordinator releases the lake once its file work is done, which this waits for too.</summary>
    protected void Stop(params IActorRef[] actors)
    {
        foreach (var actor in actors)
        {
            Watch(actor);
            Sys.Stop(actor);
            ExpectTerminated(actor, TimeSpan.FromSeconds(30));
        }
        if (!actors.Any(_coordinators.Contains))
            return;
        foreach (var state in Directory.GetDirectories(Dir.Path, "_state", SearchOption.AllDirectories))
            AwaitCondition(() => Core.Locking.LakeLock.Holder(state) is null, TimeSpan.FromSeconds(30));
    }

    /// <summary>DuckDB over exactly the files the manifest on disk commits.</summary>
    protected static IReadOnlyList<LakeRow> LakeRows(LakeSettings settings) =>
        LakeDuckDb.ReadManifest(new ManifestStore(settings.StatePath).Load()!, settings.HotPath, settings.ColdPath);

    /// <summary>The committed lake holds every row PostgreSQL has, each once.</summary>
    protected static async Task AssertLakeHoldsEachSourceRowOnceAsync(LakeSettings settings, SourceDatabase source)
    {
        var rows = LakeRows(settings);
        var expected = await source.RowsAsync();
        Assert.Equal(expected.Count, rows.Count);
        Assert.Equal(expected.Count, rows.Select(r => (r.SensorId, r.Ts)).Distinct().Count());
    }

    void IDisposable.Dispose()
    {
        Shutdown();
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
