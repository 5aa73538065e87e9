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
        Assert.Contains("was built with 2 shards but CORE_ANALYSIS_LAKE_SHARDS is 4", result.Error);
        Assert.Equal(manifestBefore, File.ReadAllText(Path.Combine(lake.HotPath, "_state", "manifest.json")));
    }
}
