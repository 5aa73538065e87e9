using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

/// <summary>What the README promises a new user of the command line: exit codes, and one line on stderr that says what went wrong.</summary>
[Collection(PostgresCollection.Name)]
public class CliPromisesTests(PostgresFixture postgres)
{
    /// <summary>A lake with two hours of readings in it.</summary>
    private async Task<LakeUnderTest> BackfilledLakeAsync(int shards)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddHours(-2), DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMinutes(20));
        var lake = new LakeUnderTest(source.ConnectionString, shards);
        lake.RunOnce();
        return lake;
    }

    private static string[] Lines(string text) => text.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void An_unknown_command_or_option_is_bad_input_not_a_finding()
    {
        foreach (var args in new[] { new[] { "frobnicate" }, ["status", "--no-such-option"] })
        {
            var result = CliRunner.Run(args);
            Assert.Equal(3, result.ExitCode);
            Assert.Contains("akkalake --help", result.Error);
        }
    }

    [Fact]
    public void A_failed_run_says_so_once_on_stderr()
    {
        using var dir = new TempDirectory();
        var result = CliRunner.Run("run", "--once", "--data-root", dir.Path, "--database-url", "postgres://bob@127.0.0.1:1/x");
        Assert.Equal(2, result.ExitCode);
        Assert.Single(Lines(result.Error));
    }

    [Fact]
    public async Task A_shard_count_that_does_not_match_the_lake_names_the_flag_that_set_it_once()
    {
        using var lake = await BackfilledLakeAsync(shards: 4);
        var args = lake.Args("run", "--once");
        args[Array.IndexOf(args, "--shards") + 1] = "8";

        var result = CliRunner.Run(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(Lines(result.Error));
        Assert.Contains("--shards", line);
        Assert.DoesNotContain("CORE_ANALYSIS_LAKE_SHARDS is", line);
    }

    [Fact]
    public async Task Moving_a_partition_the_lake_does_not_have_is_bad_input_not_a_configuration_problem()
    {
        using var lake = await BackfilledLakeAsync(shards: 2);

        var result = CliRunner.Run(lake.Args("move-partition", "--date", "2020-01-01", "--to", "cold"));

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(Lines(result.Error));
        Assert.Contains("2020-01-01", line);
        Assert.DoesNotContain("configuration", line, StringComparison.OrdinalIgnoreCase);
    }
}
