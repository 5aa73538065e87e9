using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Retention;

/// <summary>A location that cannot take a partition now (a NAS not mounted, no permission); retried later.</summary>
public sealed class LocationUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

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
        if (!Directory.Exists(targetRoot))
            throw new LocationUnavailableException($"The {to} path {targetRoot} does not exist (is the NAS mounted?).");
        var copied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files().Where(f => f.Date == date && f.Location == from))
        {
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
                throw new LocationUnavailableException($"The {to} path {targetRoot} went away during the copy: {e.Message}", e);
            }
            copied.Add(file.RelativePath);
            _faults.Hit("move.after-copy-file");
        }
        return copied;
    }

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
