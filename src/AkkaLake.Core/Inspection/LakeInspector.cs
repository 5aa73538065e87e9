using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;

namespace AkkaLake.Core.Inspection;

/// <summary>Describes a lake from its manifest and replication state. Reads only; never writes or locks.</summary>
public static class LakeInspector
{
    public static LakeReport Inspect(LakeSettings settings)
    {
        var manifest = new ManifestStore(settings.StatePath).Load();
        var replication = new ReplicationStateStore(settings.StatePath).Load();
        return Describe(settings, manifest, replication);
    }

    public static LakeReport Describe(LakeSettings settings, LakeManifest? manifest, ReplicationState? replication)
    {
        var datasets = new SortedDictionary<string, DatasetReport>(StringComparer.Ordinal);
        if (manifest is not null)
        {
            foreach (var (name, dataset) in manifest.Datasets)
            {
                var partitions = new SortedDictionary<string, PartitionReport>(StringComparer.Ordinal);
                foreach (var (date, p) in dataset.Partitions)
                {
                    var shards = new SortedDictionary<string, ShardReport>(StringComparer.Ordinal);
                    foreach (var (shard, s) in p.Shards)
                        shards[shard] = new ShardReport(s.Files.Count, s.Files.Sum(f => f.Bytes), s.Files.Sum(f => f.Rows));
                    partitions[date] = new PartitionReport(p.Location, p.UpdatedAt, p.LastCompactedAt, p.FileCount, p.Rows, p.Bytes, shards);
                }
                datasets[name] = new DatasetReport(dataset.ComputedThroughTs, partitions,
                    (IReadOnlyDictionary<string, ExpiredPartition>?)dataset.ExpiredPartitions ?? new Dictionary<string, ExpiredPartition>(), dataset.Takeover);
            }
        }
        var hotBytes = manifest?.Metrics.Partitions.Values.Where(p => p.Location == LakeLocation.Hot).Sum(p => p.Bytes) ?? 0;
        return new LakeReport(
            settings.HotPath,
            settings.ColdPath,
            manifest is not null,
            manifest?.CommitSeq,
            manifest?.Shards,
            hotBytes,
            settings.HotMaxBytes,
            manifest?.PendingDeletions.Select(d => new PendingDeletionReport(d.Location, d.Path, d.DueAt)).ToList() ?? [],
            datasets,
            replication) { ColdPathRemembered = settings.ColdPathRemembered };
    }
}
