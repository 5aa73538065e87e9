using System.Text.Json.Nodes;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Manifest;

public class ManifestStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LakeManifest Sample() =>
        LakeManifest.Create(16, T0)
            .Apply(new LakeCommit(CommitKind.Replication, "R1",
                [new FileAdd(new DateOnly(2026, 11, 24), 3, LakeLocation.Hot, ManifestEditsTests.File("part-a.parquet"))], [],
                T0.AddTicks(1234560)), T0, T0);

    [Fact]
    public void A_missing_manifest_loads_as_none()
    {
        var store = new ManifestStore(_dir.Path);
        Assert.False(store.Exists);
        Assert.Null(store.Load());
    }

    [Fact]
    public void A_saved_manifest_loads_back_equal_with_microsecond_timestamps()
    {
        var store = new ManifestStore(_dir.Path);
        var manifest = Sample();
        store.Save(manifest);
        var loaded = store.Load()!;
        Assert.Equal(manifest.CommitSeq, loaded.CommitSeq);
        Assert.Equal(manifest.Metrics.ComputedThroughTs, loaded.Metrics.ComputedThroughTs);
        Assert.Equal(manifest.Files(), loaded.Files());
        Assert.Equal(manifest.Metrics.Partitions["2026-11-24"] with { Shards = loaded.Metrics.Partitions["2026-11-24"].Shards }, loaded.Metrics.Partitions["2026-11-24"]);
    }

    [Fact]
    public void The_json_carries_the_controllers_contract_fields()
    {
        var store = new ManifestStore(_dir.Path);
        store.Save(Sample());
        var json = JsonNode.Parse(File.ReadAllText(store.FilePath))!;
        Assert.Equal(1, (int)json["schema_version"]!);
        var dataset = json["datasets"]!["metrics/v1"]!;
        Assert.Equal("2026-11-25T12:00:00.123456Z", (string)dataset["computed_through_ts"]!);
        var partition = dataset["partitions"]!["2026-11-24"]!;
        Assert.Equal("hot", (string)partition["location"]!);
        Assert.Equal("2026-11-25T12:00:00.000000Z", (string)partition["updated_at"]!);
        Assert.Null(partition["last_compacted_at"]);
        Assert.True(partition.AsObject().ContainsKey("last_compacted_at"));
        Assert.Equal(1, (int)partition["file_count"]!);
        Assert.Equal("part-a.parquet", (string)partition["shards"]!["03"]!["files"]![0]!["name"]!);
        Assert.Equal(1, (long)json["commit_seq"]!);
        Assert.True(json.AsObject().ContainsKey("pending_commit"));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{\"schema_version\": 2, \"shards\": 16, \"commit_seq\": 0, \"updated_at\": \"2026-01-01T00:00:00Z\", \"pending_commit\": null, \"pending_deletions\": [], \"datasets\": {}}")]
    [InlineData("{\"schema_version\": 1, \"shards\": 0, \"commit_seq\": 0, \"updated_at\": \"2026-01-01T00:00:00Z\", \"pending_commit\": null, \"pending_deletions\": [], \"datasets\": {}}")]
    [InlineData("{\"schema_version\": 1}")]
    public void An_unreadable_manifest_is_refused_with_a_clear_error_and_left_untouched(string content)
    {
        var store = new ManifestStore(_dir.Path);
        File.WriteAllText(store.FilePath, content);
        var e = Assert.Throws<ManifestUnreadableException>(() => store.Load());
        Assert.Contains(store.FilePath, e.Message);
        Assert.Contains("left untouched", e.Message);
        Assert.Equal(content, File.ReadAllText(store.FilePath));
    }

    [Fact]
    public void An_empty_object_is_not_taken_for_an_other_version_and_names_the_rebuild()
    {
        var store = new ManifestStore(_dir.Path);
        File.WriteAllText(store.FilePath, "{}");
        var e = Assert.Throws<ManifestUnreadableException>(() => store.Load());
        Assert.Contains("not an AkkaLake manifest", e.Message);
        Assert.Contains("verify --rebuild-manifest", e.Message);
    }

    [Fact]
    public void A_truncated_manifest_is_refused()
    {
        var store = new ManifestStore(_dir.Path);
        store.Save(Sample());
        var bytes = File.ReadAllBytes(store.FilePath);
        File.WriteAllBytes(store.FilePath, bytes[..(bytes.Length / 2)]);
        Assert.Throws<ManifestUnreadableException>(() => store.Load());
    }

    [Theory]
    [InlineData("\"location\": \"hot\"", "\"location\": \"warm\"", "'warm' is not a lake location")]
    [InlineData("\"kind\": \"replication\"", "\"kind\": \"merge\"", "'merge' is not a kind of commit")]
    public void A_manifest_naming_an_unknown_location_or_commit_kind_is_refused_with_the_value_named(string written, string damaged, string expected)
    {
        var store = new ManifestStore(_dir.Path);
        store.Save(Sample().Begin(new PendingCommit(2, CommitKind.Replication, "R2", DateTimeOffset.UnixEpoch, [new FileLocation(LakeLocation.Hot, "metrics/v1/x.parquet")])));
        var json = File.ReadAllText(store.FilePath);
        Assert.Contains(written, json);
        File.WriteAllText(store.FilePath, json.Replace(written, damaged));
        var e = Assert.Throws<ManifestUnreadableException>(() => store.Load());
        Assert.Contains(expected, e.Message);
    }
}
