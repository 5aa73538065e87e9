using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Reconciliation;

/// <summary>The lake's side of a check: per-sensor digests of one day's committed files, as of a manifest.</summary>
public static class LakeDigest
{
    /// <param name="leaveOut">Keys PostgreSQL stamped after the manifest's watermark, left out of its side too.</param>
    /// <exception cref="ManifestConflictException">A file of the snapshot was deleted meanwhile; check again from a newer one.</exception>
    public static IReadOnlyDictionary<string, SensorDigest> ReadDay(LakeManifest manifest, LakeRoots roots, DateOnly day, IReadOnlySet<(string SensorId, long TsMicros)>? leaveOut = null)
    {
        var digests = new Dictionary<string, SensorDigest>(StringComparer.Ordinal);
        foreach (var file in manifest.Files().Where(f => f.Date == day))
        {
            var part = new CommittedPart(file.File, roots.Resolve(file.Location, file.RelativePath));
            using var reader = new PartReader(part.ReadablePath());
            foreach (var rows in reader.ReadBatches(65_536))
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    var id = rows.SensorIds[i];
                    if (leaveOut is { Count: > 0 } && leaveOut.Contains((id, rows.TsMicros[i]))) continue;
                    digests[id] = digests.GetValueOrDefault(id).Add(RowChecksum.Of(rows.TsMicros[i], rows.Values[i], rows.Quality[i] ?? 0));
                }
            }
        }
        return digests;
    }
}
