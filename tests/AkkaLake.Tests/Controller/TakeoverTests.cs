using AkkaLake.Core.Layout;
using AkkaLake.Hosting;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Controller;

/// <summary>Taking over a lake the controller's first implementation wrote, read the way the controller reads it.</summary>
[Collection(PostgresCollection.Name)]
public class TakeoverTests(PostgresFixture postgres)
{
    private async Task<(SourceDatabase, LakeUnderTest)> FirstImplementationLakeAsync(int shards, DateOnly? duplicateDay = null, string? coldPath = null)
    {
        var source = await ControllerView.SourceAsync(postgres);
        var lake = new LakeUnderTest(source.ConnectionString, shards: shards, coldPath: coldPath);
        await FirstImplementationLakeWriter.WriteAsync(source, lake.HotPath, shards, DateTimeOffset.UtcNow, duplicateDay,
            coldPath is null ? null : (coldPath, ControllerView.Today.AddDays(-2)));
        return (source, lake);
    }

    [Fact]
    public async Task The_first_start_takes_over_the_first_implementations_lake_and_replication_continues_from_its_watermark()
    {
        using var cold = new TempDirectory();
        var (source, lake) = await FirstImplementationLakeAsync(shards: 4, duplicateDay: ControllerView.Today.AddDays(-1), coldPath: cold.Path);
        using var _ = lake;
        // As the controller reads that lake today: an overlapping re-export shows a day's rows twice.
        await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => ControllerView.AssertReadsSourceAsync(lake, source));

        var run = lake.RunOnce();

        await ControllerView.AssertReadsSourceAsync(lake, source);
        await ControllerView.AssertReadsSourceAsync(lake, source, "Asia/Tokyo");
        Assert.True(File.Exists(Path.Combine(lake.HotPath, "_state", "manifest.first-implementation.json")), run.Output);
        Assert.True(File.Exists(Path.Combine(lake.HotPath, "_state", "replication.first-implementation.json")));
        Assert.NotNull(lake.Manifest.Metrics.Takeover!.CompletedAt);
        Assert.Empty(Directory.GetFiles(Path.Combine(lake.HotPath, "metrics"), "data_*.parquet", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(cold.Path, "metrics"), "data_*.parquet", SearchOption.AllDirectories));
        Assert.Equal(Core.Layout.LakeLocation.Cold, lake.Manifest.Partition(ControllerView.Today.AddDays(-2))!.Location);
        Assert.Contains("took over the first implementation's lake", CliRunner.Run(lake.Args("inspect")).Output);
        var verify = CliRunner.Run(lake.Args("verify"));
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);

        await source.InsertStampedNowAsync(20, ControllerView.Now.AddMinutes(-1), DateTimeOffset.UtcNow, TimeSpan.FromSeconds(10));
        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Theory]
    [InlineData("commit.after-pending")]
    [InlineData("commit.after-retire")]
    [InlineData("commit.after-rename")]
    [InlineData("commit.after-manifest")]
    public async Task A_crash_at_any_step_of_a_takeover_never_shows_a_row_twice_and_the_next_start_resumes_it(string point)
    {
        var (source, lake) = await FirstImplementationLakeAsync(shards: 2);
        using var _ = lake;

        using (var crashed = DaemonProcess.Start(new Dictionary<string, string> { [EnvironmentFaults.Variable] = $"{point}=crash" }, lake.Args("run", "--once")))
            Assert.NotEqual(0, crashed.WaitForExit(TimeSpan.FromMinutes(1)));

        await ControllerView.AssertNoRowTwiceNorInventedAsync(lake, source);
        Assert.Contains("TAKEOVER IN PROGRESS", CliRunner.Run(lake.Args("inspect")).Output);
        lake.RunOnce();
        await ControllerView.AssertReadsSourceAsync(lake, source);
        Assert.NotNull(lake.Manifest.Metrics.Takeover!.CompletedAt);
        var verify = CliRunner.Run(lake.Args("verify"));
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
    }

    [Fact]
    public async Task A_lake_with_more_shards_than_configured_is_refused_and_left_untouched()
    {
        var (source, lake) = await FirstImplementationLakeAsync(shards: 4);
        using var _ = lake;
        using var fewer = new LakeUnderTest(source.ConnectionString, shards: 2, hotPath: lake.HotPath);
        var manifest = File.ReadAllBytes(Path.Combine(lake.HotPath, "_state", "manifest.json"));

        var result = CliRunner.Run(fewer.Args("run", "--once"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("CORE_ANALYSIS_LAKE_SHARDS is 2", result.Error + result.Output);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(lake.HotPath, "_state", "manifest.json")));
    }
}
