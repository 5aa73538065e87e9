using AkkaLake.Demo;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Replication;

[Collection(PostgresCollection.Name)]
public class DaemonLifecycleTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task The_daemon_stops_cleanly_on_a_signal_leaving_no_partial_state_and_releasing_the_lock(string signal)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 5, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(-6), DateTimeOffset.UtcNow.AddMinutes(-5), insertDelay: TimeSpan.FromSeconds(1));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        using var daemon = DaemonProcess.Start(lake.Args("run"));
        await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));

        daemon.Signal(signal);

        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Empty(Directory.GetFiles(lake.HotPath, "*.tmp", SearchOption.AllDirectories));
        Assert.Null(lake.Manifest.PendingCommit);
        await lake.AssertLakeEqualsSourceAsync(source);
        using (LakeLock.Acquire(Path.Combine(lake.HotPath, "_state"), "test")) { }
    }

    [Fact]
    public async Task A_replication_actor_that_keeps_failing_is_reported_down_and_then_stops_the_daemon_with_exit_code_2()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        var port = LocalPostgresServer.FreePort();

        // The replication actor's own handler throws at every tick: the actor fails, not a batch.
        using var daemon = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "replication.tick=throw" },
            [.. lake.Args("run"), "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await daemon.WaitForOutputAsync("The replication actor failed", TimeSpan.FromSeconds(60));

        using var http = new HttpClient();
        var health = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
        var body = await health.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var replication = System.Text.Json.Nodes.JsonNode.Parse(body)!["checks"]!["replication"]!;
        Assert.Equal("Unhealthy", (string)replication["status"]!);
        Assert.Contains("replication is down", (string)replication["description"]!);
        var status = CliRunner.Run(lake.Args("status"));
        Assert.Equal(2, status.ExitCode);
        Assert.Contains("replication is down", status.Output);

        Assert.Equal(2, daemon.WaitForExit(TimeSpan.FromMinutes(2)));
        var reason = daemon.Output.Split('\n').Where(l => l.StartsWith("akkalake run failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(["akkalake run failed: replication failed 5 times within 2 min; the last failure: injected fault at replication.tick"], reason);
    }

    [Fact]
    public async Task A_replication_actor_that_failed_once_is_restarted_and_replicates_every_row()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await using (var c = await source.OpenAsync())
            await SampleReadings.InsertAsync(c, 5, TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(-6), DateTimeOffset.UtcNow.AddMinutes(-5));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);

        // Its restart stops its export streams with it and makes them a new materializer.
        using var daemon = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "replication.tick=throw:once" }, lake.Args("run"));
        await daemon.WaitForOutputAsync("The replication actor failed", TimeSpan.FromSeconds(60));
        await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));

        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Fact]
    public async Task A_status_page_that_throws_at_every_request_never_stops_the_daemon_which_keeps_serving_and_replicating()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddHours(-6), DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        var port = LocalPostgresServer.FreePort();
        using var daemon = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "status.page=throw" },
            [.. lake.Args("run"), "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));

        using var http = new HttpClient();
        var answers = new List<System.Net.HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await http.GetAsync($"http://127.0.0.1:{port}/")).StatusCode);
            answers.Add((await http.GetAsync($"http://127.0.0.1:{port}/status.json")).StatusCode);
        }
        await source.InsertStampedNowAsync(10, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(5));
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(60));

        Assert.False(daemon.HasExited, daemon.Output);
        Assert.All(answers, a => Assert.Equal(System.Net.HttpStatusCode.InternalServerError, a));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).StatusCode);
        Assert.Contains("status page could not answer", daemon.Output);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_lake_exits_with_a_message_naming_the_first()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        using var first = DaemonProcess.Start(lake.Args("run"));
        await first.WaitForOutputAsync("Lake ready", TimeSpan.FromSeconds(60));

        using var second = DaemonProcess.Start(lake.Args("run"));

        Assert.NotEqual(0, second.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains($"pid {first.Pid}", second.Output);
        first.Signal("TERM");
        Assert.Equal(0, first.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_changed_shard_count_is_refused_with_a_clear_message_and_the_lake_is_untouched()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddHours(-3), DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var manifestBefore = File.ReadAllText(Path.Combine(lake.HotPath, "_state", "manifest.json"));

        var args = lake.Args("run", "--once");
        args[Array.IndexOf(args, "--shards") + 1] = "4";
        var result = CliRunner.Run(args);

        Assert.NotEqual(0, result.ExitCode);
        // Named by where the 4 came from (the flag here), once, on one line.
        Assert.Equal($"akkalake run failed: The lake at {lake.HotPath} was built with 2 shards, but --shards sets 4; a lake's shard count is fixed: use 2, or write a new lake into an empty hot path.",
            result.Error.Trim());
        Assert.Equal(manifestBefore, File.ReadAllText(Path.Combine(lake.HotPath, "_state", "manifest.json")));
    }
}
