using System.Text.Json.Nodes;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

[Collection(PostgresCollection.Name)]
public class StatusTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Status_says_running_and_healthy_beside_the_daemon_and_down_once_it_stops()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddHours(-5), t0.AddMinutes(-1), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();

        using (var daemon = DaemonProcess.Start(lake.Args("run")))
        {
            await daemon.WaitForOutputAsync("Replicated", TimeSpan.FromSeconds(60));
            var running = CliRunner.Run(lake.Args("status"));
            Assert.True(running.ExitCode == 0, running.Output);
            Assert.Contains($"running (pid {daemon.Pid})", running.Output);
            Assert.Contains("HEALTHY", running.Output);
            var json = JsonNode.Parse(CliRunner.Run(lake.Args("status", "--json")).Output)!;
            Assert.Equal(daemon.Pid, (int)json["daemon_pid"]!);
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        }

        var stopped = CliRunner.Run(lake.Args("status"));
        Assert.Equal(2, stopped.ExitCode);
        Assert.Contains("the daemon is not running", stopped.Output);
    }
}
