using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Reliability;

/// <summary>The scratch path is shared (the controller's analysis jobs use it too): what one writer spills, no other writer touches.</summary>
[Collection(PostgresCollection.Name)]
public class ScratchTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Writers_opening_another_lake_under_the_same_data_root_leave_a_spilling_backfill_alone()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-6), T0.AddMinutes(-1), TimeSpan.FromMinutes(2), sensors: 20, bySensor: true);
        // Lake A spills many sorted runs in its one pass (14,400 rows a day against a budget of 20,000), pausing after each.
        using var a = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "first-backfill-read = one-pass\nmax-buffered-rows = 20000");
        string[] OnB(params string[] command) =>
            [.. command, "--config", a.ConfigFile, "--data-root", a.DataRoot, "--hot-path", Path.Combine(a.DataRoot, "hot-b"), "--shards", "2", "--database-url", source.ConnectionString];
        Assert.Equal(0, CliRunner.Run(OnB("backfill", "--days", "1")).ExitCode);

        var opensOfB = 0;
        using (var run = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "writer.after-spill=pause:100" }, a.Args("run", "--once")))
        {
            while (!run.HasExited)
            {
                var compact = CliRunner.Run(OnB("compact"));
                Assert.True(compact.ExitCode == 0, compact.Error);
                opensOfB++;
            }
            Assert.True(run.WaitForExit(TimeSpan.FromMinutes(2)) == 0, run.Output);
        }

        Assert.True(opensOfB > 1, $"lake B was opened {opensOfB} times during A's pass");
        await a.AssertLakeEqualsSourceAsync(source);
        a.AssertFilesAreWellFormed();
        Assert.Equal(0, CliRunner.Run(a.Args("verify")).ExitCode);
    }
}
