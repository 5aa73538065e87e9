using AkkaLake.Testing;
using System.Text.Json.Nodes;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.State;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

public class InspectCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Hot => _dir.Combine("hot");

    private static List<string> Listing(string root) =>
        Directory.Exists(root) ? Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToList() : [];

    [Fact]
    public void Inspect_on_a_missing_lake_says_so_and_creates_nothing()
    {
        var result = CliRunner.Run("inspect", "--hot-path", Hot);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("No lake here yet", result.Output);
        Assert.False(Directory.Exists(Hot));
    }

    [Fact]
    public void Inspect_json_on_an_empty_lake_prints_the_contract_shape()
    {
        var result = CliRunner.Run("inspect", "--json", "--hot-path", Hot, "--cold-path", _dir.Combine("cold"));
        Assert.Equal(0, result.ExitCode);
        var json = JsonNode.Parse(result.Output)!;
        Assert.Equal(Hot, (string)json["hot_path"]!);
        Assert.Equal(_dir.Combine("cold"), (string)json["cold_path"]!);
        Assert.Empty(json["datasets"]!.AsObject());
        Assert.Null(json["replication"]);
        Assert.False((bool)json["lake_exists"]!);
    }

    [Fact]
    public void Inspect_json_describes_partitions_shards_watermark_and_replication_without_writing()
    {
        var day = new DateOnly(2026, 11, 24);
        var watermark = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        var adds = new List<FileAdd>();
        foreach (var (shard, name, count) in new[] { (3, "part-R1-0000.parquet", 5), (3, "part-R2-0000.parquet", 7), (11, "part-R1-0001.parquet", 2) })
        {
            var rows = new MetricRows();
            for (var i = 0; i < count; i++)
                rows.Add($"s{i:D3}", LakeLayout.StartMicros(day) + i, i, 0, null, null);
            var path = LakeLayout.Resolve(Hot, LakeLayout.FilePath(day, shard, name));
            var part = PartWriter.Write(path + ".tmp", rows, new PartMetadata("R1", CommitKind.Replication, null, watermark), 1000);
            File.Move(part.TmpPath, path);
            adds.Add(new FileAdd(day, shard, LakeLocation.Hot, new PartFile(name, part.Rows, part.Bytes,
                Timestamps.FromMicros(part.MinTsMicros), Timestamps.FromMicros(part.MaxTsMicros), null, watermark, 0, "R1")));
        }
        var manifest = LakeManifest.Create(16, watermark).Apply(new LakeCommit(CommitKind.Replication, "R1", [.. adds], [], watermark), watermark, watermark);
        var state = Path.Combine(Hot, "_state");
        new ManifestStore(state).Save(manifest);
        new ReplicationStateStore(state).Save(new ReplicationState { ComputedThroughTs = watermark, LastRunStatus = ReplicationState.Ok, LastRunRowCount = 14 });
        var before = Listing(Hot);

        var result = CliRunner.Run("inspect", "--json", "--hot-path", Hot);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(before, Listing(Hot));
        var json = JsonNode.Parse(result.Output)!;
        Assert.Null(json["cold_path"]);
        var dataset = json["datasets"]!["metrics/v1"]!;
        Assert.Equal("2026-11-25T10:00:00.000000Z", (string)dataset["computed_through_ts"]!);
        var partition = dataset["partitions"]!["2026-11-24"]!;
        Assert.Equal("hot", (string)partition["location"]!);
        Assert.Equal(2, (int)partition["shards"]!["03"]!["parquet_files"]!);
        Assert.Equal(1, (int)partition["shards"]!["11"]!["parquet_files"]!);
        var expectedBytes = new FileInfo(LakeLayout.Resolve(Hot, LakeLayout.FilePath(day, 11, "part-R1-0001.parquet"))).Length;
        Assert.Equal(expectedBytes, (long)partition["shards"]!["11"]!["total_bytes"]!);
        Assert.Equal("ok", (string)json["replication"]!["last_run_status"]!);
        Assert.Equal(14, (long)json["replication"]!["last_run_row_count"]!);
        Assert.Equal("2026-11-25T10:00:00.000000Z", (string)json["replication"]!["computed_through_ts"]!);

        var text = CliRunner.Run("inspect", "--hot-path", Hot);
        Assert.Contains("2026-11-24", text.Output);
        Assert.Contains("computed through 2026-11-25T10:00:00.000000Z", text.Output);
    }

    [Fact]
    public void Inspect_refuses_an_unreadable_manifest_with_a_clear_message()
    {
        Directory.CreateDirectory(Path.Combine(Hot, "_state"));
        File.WriteAllText(Path.Combine(Hot, "_state", "manifest.json"), "{ broken");
        var result = CliRunner.Run("inspect", "--hot-path", Hot);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cannot be read", result.Error);
        Assert.Equal("{ broken", File.ReadAllText(Path.Combine(Hot, "_state", "manifest.json")));
    }

    [Fact]
    public void Bad_configuration_exits_with_every_problem_named()
    {
        var result = CliRunner.Run("inspect", "--shards", "0", "--hot-path", "relative");
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("CORE_ANALYSIS_LAKE_SHARDS", result.Error);
        Assert.Contains("CORE_ANALYSIS_LAKE_HOT_PATH", result.Error);
    }
}
