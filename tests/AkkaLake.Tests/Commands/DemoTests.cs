using AkkaLake.Core.Manifest;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

// Runs a daemon in this process: Akka.Logger.Serilog writes to Serilog's static logger, which each
// daemon points at its own log, so daemons in one process take turns (as the PostgreSQL tests do).
[Collection(PostgresCollection.Name)]
public class DemoTests
{
    [Fact]
    public void The_demo_honours_its_path_and_shard_flags_makes_the_days_it_says_and_prints_how_to_open_the_lake_again()
    {
        using var dir = new TempDirectory();
        var root = dir.Combine("demo");
        var demo = CliRunner.Run("--data-root", root, "--shards", "3", "demo", "--days", "2", "--sensors", "5");
        Assert.True(demo.ExitCode == 0, demo.Output + demo.Error);

        var manifest = new ManifestStore(Path.Combine(root, "storage", "analysis", "lake", "hot", "_state")).Load()!;
        Assert.Equal(3, manifest.Shards);
        Assert.Equal(2, manifest.Metrics.Partitions.Count(p => p.Value.Rows > 0));
        Assert.Contains("over 2 days", demo.Output);
        // Run from the test host, the command it prints is the checkout's (an installed akkalake prints its own path).
        Assert.Contains($"dotnet run --project src/AkkaLake -- --data-root {root} --shards 3 inspect", demo.Output);

        var again = CliRunner.Run("--data-root", root, "demo");
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("already holds one", again.Error);
    }
}
