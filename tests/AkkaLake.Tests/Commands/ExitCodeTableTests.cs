using System.Text.RegularExpressions;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

/// <summary>Each exit path of the command line ends with the code docs/operations.md gives it.</summary>
[Collection(PostgresCollection.Name)]
public partial class ExitCodeTableTests(PostgresFixture postgres)
{
    /// <summary>The table's rows: code, and what it says the code means.</summary>
    private static Dictionary<int, string> Table() =>
        File.ReadLines(Repository.PathOf("docs", "operations.md"))
            .Select(line => Row().Match(line))
            .Where(m => m.Success)
            .ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Groups[2].Value);

    /// <summary>The code of the row that names <paramref name="meaning"/>; the test fails if no row or more than one does.</summary>
    private static int CodeFor(string meaning) => Assert.Single(Table(), r => r.Value.Contains(meaning, StringComparison.Ordinal)).Key;

    [GeneratedRegex(@"^\| (\d) \| (.+) \|$")]
    private static partial Regex Row();

    private async Task<(LakeUnderTest Lake, SourceDatabase Source)> LakeAsync(string? coldPath = null)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMinutes(30));
        var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: coldPath);
        lake.RunOnce();
        return (lake, source);
    }

    private static void AssertCode(int expected, CliResult result, string what) =>
        Assert.True(expected == result.ExitCode, $"{what}: exit {result.ExitCode}, the table says {expected}; stderr: {result.Error}");

    [Fact]
    public void The_table_gives_every_code_the_program_uses() =>
        Assert.Equal([AkkaLake.Commands.ExitCodes.Ok, AkkaLake.Commands.ExitCodes.Mismatch, AkkaLake.Commands.ExitCodes.Failed, AkkaLake.Commands.ExitCodes.BadInput, AkkaLake.Commands.ExitCodes.LakeBusy],
            Table().Keys.Order());

    [Fact]
    public async Task Done_findings_failures_and_bad_input_end_with_their_codes()
    {
        var (lake, source) = await LakeAsync();
        using var _ = lake;
        AssertCode(CodeFor("done"), CliRunner.Run(lake.Args("inspect")), "inspect");

        var day = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = 'sensor-0000' AND ts >= '{LakeLayout.DateKey(day)}' AND ts < '{LakeLayout.DateKey(day.AddDays(1))}'");
        AssertCode(CodeFor("`reconcile --dry-run` a day that differs"), CliRunner.Run(lake.Args("reconcile", "--dry-run")), "reconcile --dry-run");
        AssertCode(CodeFor("`parity --fail-on-mismatch` a mismatch"),
            CliRunner.Run(lake.Args("parity", "--from", LakeLayout.DateKey(day), "--to", LakeLayout.DateKey(day.AddDays(1)), "--fail-on-mismatch")), "parity");
        AssertCode(CodeFor("SQL that is not one SELECT"), CliRunner.Run(lake.Args("sql", "DELETE FROM metrics")), "sql DELETE");
        File.Delete(LakeLayout.Resolve(lake.HotPath, lake.Manifest.Files().First().RelativePath));
        AssertCode(CodeFor("`verify` found problems"), CliRunner.Run(lake.Args("verify")), "verify");
        var missing = CliRunner.Run(lake.Args("sql", "SELECT count(*) FROM metrics"));
        AssertCode(CodeFor("failed"), missing, "sql over a lake missing a file");
        Assert.Contains("is missing", Assert.Single(missing.Error.Trim().Split('\n')));

        var unreachable = lake.Args("run", "--once");
        unreachable[Array.IndexOf(unreachable, "--database-url") + 1] = "postgres://nobody@127.0.0.1:1/none";
        AssertCode(CodeFor("PostgreSQL unreachable"), CliRunner.Run(unreachable), "run --once against no database");
        using var empty = new TempDirectory();
        AssertCode(CodeFor("no lake at the path"), CliRunner.Run("verify", "--data-root", empty.Path), "verify where there is no lake");

        AssertCode(CodeFor("an unknown command or option"), CliRunner.Run("frobnicate"), "an unknown command");
        AssertCode(CodeFor("a malformed setting"), CliRunner.Run(lake.Args("inspect", "--shards", "0")), "a shard count of 0");
    }

    [Fact]
    public async Task Every_command_the_table_names_for_a_lake_in_use_ends_with_its_code_while_another_writer_holds_the_lake()
    {
        using var temp = new TempDirectory();
        var (lake, source) = await LakeAsync(coldPath: temp.Combine("cold"));
        using var _ = lake;
        var day = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        // A day that differs, so that reconcile goes on to rebuild it and needs the lake.
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = 'sensor-0000' AND ts >= '{LakeLayout.DateKey(day)}' AND ts < '{LakeLayout.DateKey(day.AddDays(1))}'");
        var commands = new Dictionary<string, string[]>
        {
            ["run"] = lake.Args("run", "--once"),
            ["backfill"] = lake.Args("backfill", "--from", LakeLayout.DateKey(day), "--to", LakeLayout.DateKey(day), "--replace"),
            ["reconcile"] = lake.Args("reconcile"),
            ["compact"] = lake.Args("compact"),
            ["move-partition"] = lake.Args("move-partition", "--date", LakeLayout.DateKey(day), "--to", "cold"),
            ["verify --rebuild-manifest"] = lake.Args("verify", "--rebuild-manifest"),
        };
        var row = CodeFor("in use by another writer");
        Assert.Equal(commands.Keys.Order(), CommandsIn(Table()[row]).Order());

        using (LakeLock.Acquire(Path.Combine(lake.HotPath, "_state"), "a test standing in for the daemon"))
            foreach (var (name, args) in commands)
            {
                var result = CliRunner.Run(args);
                AssertCode(row, result, name);
                Assert.Contains("in use by another AkkaLake writer", result.Error);
            }
    }

    private static IEnumerable<string> CommandsIn(string meaning) => CommandName().Matches(meaning).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex CommandName();
}
