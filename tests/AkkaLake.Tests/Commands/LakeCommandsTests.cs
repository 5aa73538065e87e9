using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

[Collection(PostgresCollection.Name)]
public class LakeCommandsTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private static Task AddReadingsAsync(SourceDatabase source, int firstSensor, DateTimeOffset from, DateTimeOffset to) =>
        source.InsertStampedNowAsync(firstSensor, from, to, TimeSpan.FromMinutes(20));

    [Fact]
    public async Task Sql_and_the_duckdb_view_see_exactly_the_committed_rows_with_date_and_shard()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await AddReadingsAsync(source, 0, T0.AddDays(-2), T0.AddMinutes(-5));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        // A stray finished part that no commit references must not be seen.
        // Next to a committed file: today's directory may not exist just after midnight.
        var committed = LakeLayout.Resolve(lake.HotPath, lake.Manifest.Files().First().RelativePath);
        File.Copy(committed, Path.Combine(Path.GetDirectoryName(committed)!, "part-stray-0000.parquet"));
        var expected = (await source.RowsAsync()).Count;

        var result = CliRunner.Run(lake.Args("sql", "SELECT count(*) AS n, count(DISTINCT shard) AS shards, min(date) AS first FROM metrics"));

        Assert.True(result.ExitCode == 0, result.Error);
        var row = result.Output.Split('\n')[1].Split('\t');
        Assert.Equal(expected.ToString(), row[0]);
        Assert.Equal("2", row[1]);
        Assert.Equal(LakeLayout.DateKey(DateOnly.FromDateTime(T0.AddDays(-2).UtcDateTime)), row[2].Trim());

        var view = CliRunner.Run(lake.Args("inspect", "--duckdb-view"));
        Assert.StartsWith("CREATE OR REPLACE VIEW metrics", view.Output);
        Assert.Equal((long)expected, LakeDuckDb.Scalar(view.Output + "\nSELECT count(*) FROM metrics;"));
        Assert.DoesNotContain("part-stray", view.Output);

        // A mistake in the query is bad input: exit 3 and DuckDB's first line, not its caret drawing.
        var bad = CliRunner.Run(lake.Args("sql", "SELECT nope FROM metrics"));
        Assert.Equal(3, bad.ExitCode);
        Assert.StartsWith("Binder Error: Referenced column \"nope\" not found", bad.Error);
        Assert.Single(bad.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Sql_reads_the_committed_files_only_and_refuses_every_write_read_elsewhere_setting_and_extension()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await AddReadingsAsync(source, 0, T0.AddDays(-1), T0.AddMinutes(-5));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var committed = LakeLayout.Resolve(lake.HotPath, lake.Manifest.Files().First().RelativePath);
        var outside = Path.Combine(lake.DataRoot, "outside.csv");
        File.WriteAllText(outside, "secret\n42\n");
        string Snapshot() => string.Join("\n", Directory.GetFiles(lake.DataRoot, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}logs{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => $"{f} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}"));
        var before = Snapshot();

        string[] refused =
        [
            $"COPY (SELECT 1 AS a) TO '{lake.HotPath}/_state/manifest.json' (FORMAT json)",
            $"COPY (SELECT 1 AS a) TO '{committed}' (FORMAT parquet, USE_TMP_FILE false)",
            $"SELECT 1; COPY (SELECT 1 AS a) TO '{lake.DataRoot}/x.csv'",
            $"ATTACH '{lake.DataRoot}/x.duckdb'",
            $"EXPORT DATABASE '{lake.DataRoot}/export'",
            "SET enable_external_access = true",
            "INSTALL httpfs",
            "LOAD httpfs",
            $"SELECT * FROM read_csv('{outside}')",
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM glob('/etc/*')",
            "SELECT 'a' AS x; SELECT 'b' AS y",
        ];
        foreach (var sql in refused)
        {
            // Refused as the README says: exit 3 and one line.
            var result = CliRunner.Run(lake.Args("sql", sql));
            Assert.True(result.ExitCode == 3, $"{sql} exited {result.ExitCode}: {result.Output}{result.Error}");
            Assert.Single(result.Error.Trim().Split('\n'));
            Assert.DoesNotContain("secret", result.Output);
            Assert.DoesNotContain("root:", result.Output);
        }
        Assert.Equal(before, Snapshot());

        // Reading a committed file by its path is reading the lake.
        var direct = CliRunner.Run(lake.Args("sql", $"SELECT count(*) FROM read_parquet('{committed}')"));
        Assert.True(direct.ExitCode == 0, direct.Error);
    }

    [Fact]
    public async Task Compact_by_hand_merges_each_shard_day_to_one_file_with_the_same_rows()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await AddReadingsAsync(source, 0, T0.AddHours(-6), T0.AddMinutes(-5));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "delete-grace-seconds = 0");
        lake.RunOnce();
        for (var i = 1; i <= 3; i++)
        {
            await AddReadingsAsync(source, i * 10, T0.AddHours(-6), T0.AddMinutes(-5));
            lake.RunOnce();
        }
        Assert.Contains(lake.Manifest.Metrics.Partitions.Values, p => p.Shards.Values.Any(s => s.Files.Count > 1));

        var result = CliRunner.Run(lake.Args("compact"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("Compacted", result.Output);
        Assert.All(lake.Manifest.Metrics.Partitions.Values, p => Assert.All(p.Shards.Values, s => Assert.Single(s.Files)));
        Assert.All(lake.Manifest.Files(), f => Assert.StartsWith("compact-", f.File.Name));
        Assert.All(lake.Manifest.Metrics.Partitions.Values, p => Assert.NotNull(p.LastCompactedAt));
        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
    }

    [Fact]
    public async Task Move_partition_moves_to_cold_and_back_and_an_unavailable_cold_path_leaves_it_hot()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await AddReadingsAsync(source, 0, T0.AddDays(-2), T0.AddMinutes(-5));
        using var cold = new TempDirectory();
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: cold.Path, extraConfig: "delete-grace-seconds = 0");
        lake.RunOnce();
        var day = LakeLayout.DateKey(DateOnly.FromDateTime(T0.AddDays(-1).UtcDateTime));

        var toCold = CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold"));
        Assert.True(toCold.ExitCode == 0, toCold.Error);
        Assert.Equal(LakeLocation.Cold, lake.Manifest.Metrics.Partitions[day].Location);
        Assert.True(Directory.Exists(Path.Combine(cold.Path, "metrics/v1", $"date={day}")));
        Assert.Empty(Directory.GetFiles(Path.Combine(lake.HotPath, "metrics/v1", $"date={day}"), "*.parquet", SearchOption.AllDirectories));
        await lake.AssertLakeEqualsSourceAsync(source);

        var toHot = CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "hot"));
        Assert.True(toHot.ExitCode == 0, toHot.Error);
        Assert.Equal(LakeLocation.Hot, lake.Manifest.Metrics.Partitions[day].Location);
        await lake.AssertLakeEqualsSourceAsync(source);

        Directory.Delete(cold.Path, recursive: true);
        var unavailable = CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold"));
        Assert.NotEqual(0, unavailable.ExitCode);
        Assert.Contains("stays hot", unavailable.Error);
        Assert.Equal(LakeLocation.Hot, lake.Manifest.Metrics.Partitions[day].Location);
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    [Fact]
    public async Task The_lake_remembers_its_cold_path_and_an_absent_NAS_is_not_reported_as_missing_files()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await AddReadingsAsync(source, 0, T0.AddDays(-2), T0.AddMinutes(-5));
        using var cold = new TempDirectory();
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: cold.Path, extraConfig: "delete-grace-seconds = 0");
        lake.RunOnce();
        var day = LakeLayout.DateKey(DateOnly.FromDateTime(T0.AddDays(-1).UtcDateTime));
        Assert.Equal(0, CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold")).ExitCode);

        var inspect = CliRunner.Run(lake.ArgsWithoutColdPath("inspect"));
        Assert.Equal(0, inspect.ExitCode);
        Assert.Contains($"cold path: {cold.Path} (remembered by the lake; not configured)", inspect.Output);
        var verify = CliRunner.Run(lake.ArgsWithoutColdPath("verify"));
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
        Assert.Equal(0, CliRunner.Run(lake.ArgsWithoutColdPath("run", "--once")).ExitCode);
        await lake.AssertLakeEqualsSourceAsync(source);

        // The NAS unmounted: its files are not checked, and not called missing either.
        Directory.Move(cold.Path, cold.Path + "-unmounted");
        try
        {
            var away = CliRunner.Run(lake.ArgsWithoutColdPath("verify"));
            Assert.Equal(2, away.ExitCode);
            Assert.Contains("NOT CHECKED", away.Output);
            Assert.Contains("is the NAS mounted?", away.Output);
            Assert.DoesNotContain("missing", away.Output);
        }
        finally
        {
            Directory.Move(cold.Path + "-unmounted", cold.Path);
        }
    }
}
