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
        Assert.Equal(1, (long)json["commit_seq"]!);
        // The file list is a file of its own, named from the root.
        var list = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir.Path, ManifestStore.FileListDirectory, (string)partition["file_list"]!)))!;
        Assert.Equal("part-a.parquet", (string)list["shards"]!["03"]!["files"]![0]!["name"]!);
        Assert.False(json.AsObject().ContainsKey("pending_commit"));
        Assert.False(json.AsObject().ContainsKey("pending_deletions"));
    }

    [Fact]
    public void A_commit_writes_the_file_lists_of_the_partitions_it_touched_and_the_root()
    {
        var store = new ManifestStore(_dir.Path);
        var other = new DateOnly(2026, 11, 23);
        var manifest = Sample().Apply(new LakeCommit(CommitKind.Replication, "R2", [new FileAdd(other, 1, LakeLocation.Hot, ManifestEditsTests.File("part-b.parquet"))], []), T0, T0);
        store.Save(manifest);
        string[] Lists() => [.. Directory.GetFiles(Path.Combine(_dir.Path, ManifestStore.FileListDirectory)).Select(Path.GetFileName).Order()!];
        Assert.Equal(["2026-11-23.000000000002.json", "2026-11-24.000000000002.json"], Lists());

        var next = manifest.Apply(new LakeCommit(CommitKind.Replication, "R3", [new FileAdd(other, 2, LakeLocation.Hot, ManifestEditsTests.File("part-c.parquet"))], []), T0, T0);
        store.Save(next);

        // The untouched partition's list stays as it was; the touched one gets a new list (the old one goes a minute later).
        Assert.Equal(["2026-11-23.000000000002.json", "2026-11-23.000000000003.json", "2026-11-24.000000000002.json"], Lists());
        var loaded = new ManifestStore(_dir.Path).Load()!;
        Assert.Equal(next.Files().Select(f => f.RelativePath).Order(), loaded.Files().Select(f => f.RelativePath).Order());
    }

    [Fact]
    public void A_commit_in_progress_and_the_deletions_of_landed_commits_live_in_their_intents_until_the_files_are_gone()
    {
        var store = new ManifestStore(_dir.Path);
        var manifest = Sample();
        store.Save(manifest);
        var retired = new PendingDeletion(LakeLocation.Hot, "metrics/v1/date=2026-11-24/shard=03/part-a.parquet", T0.AddMinutes(5));
        var pending = new PendingCommit(2, CommitKind.Compaction, "C1", T0, [new FileLocation(LakeLocation.Hot, "metrics/v1/date=2026-11-24/shard=03/compact-c.parquet")],
            [new FileLocation(LakeLocation.Hot, retired.Path)]);

        store.BeginCommit(pending, [retired]);
        var inProgress = new ManifestStore(_dir.Path).Load()!;
        Assert.Equal(pending.CommitSeq, inProgress.PendingCommit?.CommitSeq);
        Assert.Empty(inProgress.PendingDeletions);

        var landed = manifest.Apply(new LakeCommit(CommitKind.Compaction, "C1", [new FileAdd(new DateOnly(2026, 11, 24), 3, LakeLocation.Hot, ManifestEditsTests.File("compact-c.parquet"))],
            [new FileRemove(new DateOnly(2026, 11, 24), 3, "part-a.parquet")]), T0, T0.AddMinutes(5));
        store.Save(landed);
        var after = new ManifestStore(_dir.Path).Load()!;
        Assert.Null(after.PendingCommit);
        Assert.Equal([retired], after.PendingDeletions);

        var (done, due) = after.TakeDueDeletions(T0.AddMinutes(6));
        Assert.Equal([retired], due);
        store.SaveDeletions(done);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, ManifestStore.CommitDirectory)));
        Assert.Empty(new ManifestStore(_dir.Path).Load()!.PendingDeletions);
    }

    [Fact]
    public void A_deletion_due_at_a_time_finer_than_a_microsecond_stays_recorded_after_the_next_save()
    {
        var store = new ManifestStore(_dir.Path);
        var manifest = Sample();
        store.Save(manifest);
        var due = T0.AddMinutes(5).AddTicks(7);
        var path = "metrics/v1/date=2026-11-24/shard=03/part-a.parquet";
        var pending = new PendingCommit(2, CommitKind.Compaction, "C1", T0, [new FileLocation(LakeLocation.Hot, "metrics/v1/date=2026-11-24/shard=03/compact-c.parquet")],
            [new FileLocation(LakeLocation.Hot, path)]);
        store.BeginCommit(pending, [new PendingDeletion(LakeLocation.Hot, path, due)]);
        var landed = manifest.Apply(new LakeCommit(CommitKind.Compaction, "C1", [new FileAdd(new DateOnly(2026, 11, 24), 3, LakeLocation.Hot, ManifestEditsTests.File("compact-c.parquet"))],
            [new FileRemove(new DateOnly(2026, 11, 24), 3, "part-a.parquet")]), T0, due);

        store.Save(landed);
        store.Save(landed with { UpdatedAt = T0.AddMinutes(1) });

        Assert.Equal([path], new ManifestStore(_dir.Path).Load()!.PendingDeletions.Select(d => d.Path));
    }

    [Fact]
    public void A_root_an_older_build_wrote_with_its_lists_inline_is_read_and_the_next_save_writes_the_current_form()
    {
        var legacy = Sample() with { PendingDeletions = [new PendingDeletion(LakeLocation.Hot, "metrics/v1/date=2026-11-24/shard=03/part-z.parquet", T0.AddMinutes(5))] };
        File.WriteAllText(Path.Combine(_dir.Path, ManifestStore.FileName), System.Text.Json.JsonSerializer.Serialize(legacy, LakeJson.Options));
        var store = new ManifestStore(_dir.Path);

        var loaded = store.Load()!;
        Assert.Equal(legacy.Files(), loaded.Files());
        Assert.Equal(legacy.PendingDeletions, loaded.PendingDeletions);

        store.Save(loaded);
        var root = JsonNode.Parse(File.ReadAllText(store.FilePath))!;
        Assert.NotNull(root["datasets"]!["metrics/v1"]!["partitions"]!["2026-11-24"]!["file_list"]);
        // Its deletions stay in the root until they are done.
        Assert.Single(root["pending_deletions"]!.AsArray());
        Assert.Equal(legacy.PendingDeletions, new ManifestStore(_dir.Path).Load()!.PendingDeletions);
        store.SaveDeletions(loaded.TakeDueDeletions(T0.AddMinutes(6)).Manifest);
        Assert.Null(JsonNode.Parse(File.ReadAllText(store.FilePath))!["pending_deletions"]);
    }

    [Fact]
    public void A_root_naming_a_file_list_that_is_gone_is_refused_and_left_untouched()
    {
        var store = new ManifestStore(_dir.Path);
        store.Save(Sample());
        foreach (var list in Directory.GetFiles(Path.Combine(_dir.Path, ManifestStore.FileListDirectory))) File.Delete(list);
        var root = File.ReadAllText(store.FilePath);
        var e = Assert.Throws<ManifestUnreadableException>(() => store.Load());
        Assert.Contains("names a file list that is missing", e.Message);
        Assert.Equal(root, File.ReadAllText(store.FilePath));
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
    [InlineData(false, "\"location\":\"hot\"", "\"location\":\"warm\"", "'warm' is not a lake location")]
    [InlineData(true, "\"kind\":\"replication\"", "\"kind\":\"merge\"", "'merge' is not a kind of commit")]
    public void A_manifest_naming_an_unknown_location_or_commit_kind_is_refused_with_the_value_named(bool inTheIntent, string written, string damaged, string expected)
    {
        var store = new ManifestStore(_dir.Path);
        store.Save(Sample());
        store.BeginCommit(new PendingCommit(2, CommitKind.Replication, "R2", DateTimeOffset.UnixEpoch, [new FileLocation(LakeLocation.Hot, "metrics/v1/x.parquet")]), []);
        var file = inTheIntent ? Directory.GetFiles(Path.Combine(_dir.Path, ManifestStore.CommitDirectory)).Single() : store.FilePath;
        var json = File.ReadAllText(file);
        Assert.Contains(written, json);
        File.WriteAllText(file, json.Replace(written, damaged));
        var e = Assert.Throws<ManifestUnreadableException>(() => store.Load());
        Assert.Contains(expected, e.Message);
    }
}
