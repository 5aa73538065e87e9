using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Retention;

/// <summary>
/// Copies every file of a partition to another location, each as <c>.tmp</c>, flushed, checked
/// (size and a Parquet footer read with the recorded row count) and renamed. The source stays
/// authoritative until the coordinator commits the move; until then the copies are unreferenced
/// and recovery removes them after a crash.
/// </summary>
public sealed class PartitionCopier(LakeRoots roots, IFaultPoints? faults = null)
{
    private readonly IFaultPoints _faults = faults ?? FaultPoints.None;

    /// <summary>Copies the partition's files and returns their lake-relative paths, which the move commit must still match.</summary>
    public IReadOnlySet<string> Copy(LakeManifest manifest, DateOnly date, string from, string to)
    {
        var targetRoot = to == Locations.Cold ? roots.Cold : roots.Hot;
        if (targetRoot is null)
            throw new LocationUnavailableException("No cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH).");
        // The marker check covers a missing cold root too.
        if (to == Locations.Cold)
            ColdMarker.Ensure(manifest, targetRoot);
        else if (!Directory.Exists(targetRoot))
            throw new LocationUnavailableException($"The {to} path {targetRoot} does not exist.");
        var copied = new Dictionary<string, PartFile>(StringComparer.Ordinal);
        foreach (var file in manifest.Files().Where(f => f.Date == date && f.Location == from))
        {
            // Copying would recreate a vanished root's directories on the local disk, under the mount point.
            if (!Directory.Exists(targetRoot)) throw WentAway(to, targetRoot, "the directory is gone");
            var source = roots.Resolve(from, file.RelativePath);
            var target = roots.Resolve(to, file.RelativePath);
            try
            {
                AtomicFile.CopyAcross(source, target, tmp => Verify(tmp, file.File));
            }
            catch (UnauthorizedAccessException e)
            {
                throw new LocationUnavailableException($"The {to} path {targetRoot} is not writable: {e.Message}", e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw WentAway(to, targetRoot, e.Message);
            }
            copied.Add(file.RelativePath, file.File);
            _faults.Hit("move.after-copy-file");
        }
        // The move is committed on the strength of these copies: check they are all still there.
        if (to == Locations.Cold && !ColdMarker.IsPresent(targetRoot))
            throw WentAway(to, targetRoot, $"its {ColdMarker.FileName} marker is gone");
        foreach (var (relative, file) in copied)
        {
            var target = new FileInfo(roots.Resolve(to, relative));
            if (!target.Exists || target.Length != file.Bytes)
                throw WentAway(to, targetRoot, $"the copy of {file.Name} is no longer there");
        }
        return copied.Keys.ToHashSet(StringComparer.Ordinal);
    }

    private static LocationUnavailableException WentAway(string location, string root, string detail) =>
        new($"The {location} path {root} went away during the copy ({detail}); nothing was switched.");

    private static void Verify(string tmp, PartFile expected)
    {
        var length = new FileInfo(tmp).Length;
        if (length != expected.Bytes)
            throw new IOException($"The copy of {expected.Name} is {length} bytes; the manifest records {expected.Bytes}.");
        using var reader = new PartReader(tmp);
        if (reader.RowCount != expected.Rows)
            throw new IOException($"The copy of {expected.Name} has {reader.RowCount} rows in its footer; the manifest records {expected.Rows}.");
    }
}
