using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using Npgsql;

namespace AkkaLake.Core.Reconciliation;

/// <summary>
/// Checks one day of a manifest snapshot against PostgreSQL: the daemon's schedule and
/// <c>akkalake reconcile</c> both use it. Both sides are as of the snapshot's watermark: keys
/// PostgreSQL stamped after it (rows replication has not reached yet, readings re-sent since)
/// are left out of both, so a check running beside replication and upserts sees no difference that is not there.
/// </summary>
public sealed class Reconciler(NpgsqlDataSource dataSource, LakeRoots roots)
{
    public async Task<DayCheck> CheckAsync(LakeManifest manifest, DateOnly day, CancellationToken ct)
    {
        var cursor = manifest.Metrics.ReadyWatermark;
        DayDigest source;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            var table = await SourceTable.DescribeAsync(connection, ct);
            var scan = await DayScan.ChooseAsync(connection, table, ct);
            source = await SourceDigest.ReadDayAsync(connection, table, scan, day, cursor, ct);
        }
        var lake = await Task.Run(() => LakeDigest.ReadDay(manifest, roots, day, source.Pending), ct);
        return DayComparison.Compare(day, source.Digests, lake, manifest.Shards);
    }
}
