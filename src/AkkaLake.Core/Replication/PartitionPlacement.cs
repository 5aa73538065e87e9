using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Replication;

/// <summary>
/// Where rows of a date go. A date the manifest already has goes where its partition is. A new
/// date inside the hot horizon (on or after today - retention days) goes hot; an older one goes
/// cold when a cold path is set and is otherwise skipped (Postgres keeps it).
/// </summary>
public sealed class PartitionPlacement(LakeManifest manifest, DateOnly today, int retentionDays, bool hasColdPath)
{
    public DateOnly HorizonStart { get; } = today.AddDays(-retentionDays);

    public LakeLocation? LocationFor(DateOnly date)
    {
        if (manifest.Metrics.Partitions.TryGetValue(LakeLayout.DateKey(date), out var existing))
            return existing.Location;
        if (date >= HorizonStart) return LakeLocation.Hot;
        return hasColdPath ? LakeLocation.Cold : null;
    }
}
