using System.Text.Json.Nodes;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

[Collection(PostgresCollection.Name)]
public class ParityAndVerifyTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private async Task<(SourceDatabase, LakeUnderTest)> LakeAsync(string extraConfig = "")
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-2), T0.AddMinutes(-5), TimeSpan.FromMinutes(15), sensors: 6);
        var lake = new LakeUnderTest(source.ConnectionString, shards: 3, extraConfig: extraConfig);
        lake.RunOnce();
        return (source, lake);
    }

    private static string Day(int daysAgo) => LakeLayout.DateKey(DateOnly.FromDateTime(T0.AddDays(-daysAgo).UtcDateTime));

    [Fact]
    public async Task Parity_matches_on_a_faithful_lake_and_finds_a_removed_file()
    {
        var (_, lake) = await LakeAsync();
        using var _ = lake;
        var matching = CliRunner.Run(lake.Args("parity", "--from", Day(3), "--to", Day(-1), "--fail-on-mismatch", "--json"));
        Assert.True(matching.ExitCode == 0, matching.Error + matching.Output);
        var json = JsonNode.Parse(matching.Output)!;
        Assert.Equal(0, (int)json["mismatches"]!);
        Assert.Equal(6, json["sensors"]!.AsArray().Count);

        var sampled = CliRunner.Run(lake.Args("parity", "--from", Day(3), "--to", Day(-1), "--sample", "2"));
        Assert.Contains("2 sensors compared", sampled.Output);

        File.Delete(LakeLayout.Resolve(lake.HotPath, lake.Manifest.Files().First().RelativePath));
        var tampered = CliRunner.Run(lake.Args("parity", "--from", Day(3), "--to", Day(-1), "--fail-on-mismatch"));
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("MISMATCH", tampered.Output);
    }

    [Fact]
    public async Task Parity_refuses_an_empty_or_reversed_window_and_an_unreachable_database_is_one_line()
    {
        var (_, lake) = await LakeAsync();
        using var _ = lake;

        var reversed = CliRunner.Run(lake.Args("parity", "--from", Day(0), "--to", Day(1), "--fail-on-mismatch"));
        Assert.Equal(3, reversed.ExitCode);
        Assert.Contains("must be after --from", reversed.Error);
        Assert.Equal(3, CliRunner.Run(lake.Args("parity", "--from", Day(1), "--to", Day(1))).ExitCode);

        using var elsewhere = new LakeUnderTest("postgres://bob:pw@127.0.0.1:1/x", shards: 3, hotPath: lake.HotPath);
        var unreachable = CliRunner.Run(elsewhere.Args("parity", "--from", Day(1), "--to", Day(0)));
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Single(unreachable.Error.Trim().Split('\n'));
        Assert.Contains("could not be queried", unreachable.Error);
    }

    [Fact]
    public async Task Verify_passes_a_healthy_lake_and_names_a_missing_file_an_extra_file_a_foreign_file_a_wrong_schema_and_a_corrupt_footer()
    {
        var (_, lake) = await LakeAsync();
        using var _ = lake;
        var healthy = CliRunner.Run(lake.Args("verify"));
        Assert.True(healthy.ExitCode == 0, healthy.Output);
        Assert.Contains("OK:", healthy.Output);

        var files = lake.Manifest.Files().ToList();
        var missing = LakeLayout.Resolve(lake.HotPath, files[0].RelativePath);
        File.Delete(missing);
        var corrupt = LakeLayout.Resolve(lake.HotPath, files[1].RelativePath);
        var bytes = File.ReadAllBytes(corrupt);
        bytes[^10] ^= 0xFF;
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(corrupt, bytes);
        var extra = Path.Combine(Path.GetDirectoryName(corrupt)!, "part-extra-0000.parquet");
        File.Copy(LakeLayout.Resolve(lake.HotPath, files[2].RelativePath), extra);
        // Someone else's file, which the controller's directory listing would read as lake data.
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(corrupt)!, "evil.parquet"), "not ours");
        // A file as AkkaLake wrote it before ts became a plain TIMESTAMP.
        var zoned = LakeLayout.Resolve(lake.HotPath, files[3].RelativePath);
        File.Delete(zoned);
        LakeDuckDb.Scalar($"COPY (SELECT 'sensor-0000' AS sensor_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS ts, 1.0::DOUBLE AS value, 0 AS quality, NULL::INTEGER AS samples, NULL::VARCHAR AS source) TO '{zoned}' (FORMAT parquet)");

        var result = CliRunner.Run(lake.Args("verify", "--json"));

        Assert.Equal(1, result.ExitCode);
        var problems = JsonNode.Parse(result.Output)!["problems"]!.AsArray().Select(p => ((string)p!["kind"]!, (string)p["path"]!)).ToList();
        Assert.Contains(("missing", files[0].RelativePath), problems);
        Assert.Contains(problems, p => p.Item1 == "unreadable" && p.Item2 == files[1].RelativePath);
        Assert.Contains(problems, p => p.Item1 == "unreferenced" && p.Item2.EndsWith("part-extra-0000.parquet", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Item1 == "foreign" && p.Item2.EndsWith("evil.parquet", StringComparison.Ordinal));
        Assert.Contains(("wrong-schema", files[3].RelativePath), problems);
    }

    [Fact]
    public async Task Rebuild_manifest_recovers_the_same_rows_even_with_superseded_files_still_on_disk()
    {
        var (source, lake) = await LakeAsync("delete-grace-seconds = 3600");
        using var _ = lake;
        // More ticks, then a compaction (inputs stay on disk for the grace period) and a day rebuilt by hand.
        for (var i = 1; i <= 2; i++)
        {
            await source.InsertStampedNowAsync(i * 10, T0.AddDays(-1), T0.AddMinutes(-5), TimeSpan.FromMinutes(30), sensors: 2);
            lake.RunOnce();
        }
        var compact = CliRunner.Run(lake.Args("compact", "--date", Day(0)));
        Assert.True(compact.ExitCode == 0, compact.Error + compact.Output);
        var rebuilt = CliRunner.Run(lake.Args("backfill", "--from", Day(1), "--to", Day(1), "--replace"));
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Error + rebuilt.Output);
        var before = lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order().ToList();
        var watermark = lake.Manifest.Metrics.ComputedThroughTs;
        Assert.NotEmpty(lake.Manifest.PendingDeletions);
        File.WriteAllText(Path.Combine(lake.HotPath, "_state", "manifest.json"), "{ lost");

        var result = CliRunner.Run(lake.Args("verify", "--rebuild-manifest"));

        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("Kept the old manifest", result.Output);
        Assert.Single(Directory.GetFiles(Path.Combine(lake.HotPath, "_state"), "manifest.json.before-rebuild-*"));
        var kept = string.Join("\n", lake.Manifest.Files().Select(f => $"{f.RelativePath} {f.File.RunId} level={f.File.Level} cursor_to={f.File.CursorTo:O}"));
        Assert.True(before.SequenceEqual(lake.Rows().Select(r => (r.SensorId, r.Ts, r.Value)).Order()), "rebuilt manifest:\n" + kept + "\non disk:\n" +
            string.Join("\n", Directory.GetFiles(Path.Combine(lake.HotPath, "metrics"), "*", SearchOption.AllDirectories).Order()));
        Assert.Equal(watermark, lake.Manifest.Metrics.ComputedThroughTs);
        await lake.AssertLakeEqualsSourceAsync(source);
        // The daemon carries on from the rebuilt manifest.
        await source.InsertStampedNowAsync(50, T0.AddHours(-1), T0.AddMinutes(-5), TimeSpan.FromMinutes(10), sensors: 2);
        lake.RunOnce();
        await lake.AssertLakeEqualsSourceAsync(source);
    }
}
