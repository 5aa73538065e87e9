using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Retention;

/// <summary>
/// Copies every file of a partition to another location, each as a <c>.tmp</c> beside its final
/// name, flushed and checked (size and a Parquet footer read with the recorded row count). The
/// move's commit publishes the copies and retires the originals in one step; until then the
/// source stays authoritative, and recovery removes the copies after a crash.
/// </summary>
public sealed class PartitionCopier(LakeRoots roots, IFaultPoints? faults = null)
{
    private readonly IFaultPoints _faults = faults ?? FaultPoints.None;

    /// <summary>
    /// Copies the partition's files and returns their lake-relative paths, which the move commit
    /// must still match; each copy waits as <see cref="StagedCopy"/> of its path.
    /// </summary>
    public IReadOnlySet<string> Copy(LakeManifest manifest, DateOnly date, LakeLocation from, LakeLocation to)
    {
        var targetRoot = to == LakeLocation.Cold ? roots.Cold : roots.Hot;
        if (targetRoot is null)
            throw new LocationUnavailableException("No cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH).");
        // The marker check covers a missing cold root too.
        if (to == LakeLocation.Cold)
            ColdMarker.Ensure(manifest, targetRoot);
        else if (!Directory.Exists(targetRoot))
            throw new LocationUnavailableException($"The {to} path {targetRoot} does not exist.");
        var copied = new Dictionary<string, PartFile>(StringComparer.Ordinal);
        try
        {
            CopyFiles(manifest, date, from, to, targetRoot, copied);
        }
        catch
        {
            // A failed move keeps nothing on the target: a full NAS is not kept full by it.
            Discard(copied.Keys, to);
            throw;
        }
        return copied.Keys.ToHashSet(StringComparer.Ordinal);
    }

    private void CopyFiles(LakeManifest manifest, DateOnly date, LakeLocation from, LakeLocation to, string targetRoot, Dictionary<string, PartFile> copied)
    {
        foreach (var file in manifest.Files().Where(f => f.Date == date && f.Location == from))
        {
            // Copying would recreate a vanished root's directories on the local disk, under the mount point.
            if (!Directory.Exists(targetRoot)) throw WentAway(to, targetRoot, "the directory is gone");
            var source = roots.Resolve(from, file.RelativePath);
            var target = roots.Resolve(to, StagedCopy(file.RelativePath));
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
        if (to == LakeLocation.Cold && !ColdMarker.IsPresent(targetRoot))
            throw WentAway(to, targetRoot, $"its {ColdMarker.FileName} marker is gone");
        foreach (var (relative, file) in copied)
        {
            var target = new FileInfo(roots.Resolve(to, StagedCopy(relative)));
            if (!target.Exists || target.Length != file.Bytes)
                throw WentAway(to, targetRoot, $"the copy of {file.Name} is no longer there");
        }
    }

    /// <summary>Where the copy of a file waits for the move's commit.</summary>
    public static string StagedCopy(string relativePath) => relativePath + AtomicFile.TmpSuffix;

    /// <summary>Deletes the staged copies of a move that will not be committed.</summary>
    public void Discard(IEnumerable<string> copied, LakeLocation to)
    {
        _faults.Hit("move.discard");
        foreach (var relative in copied) AtomicFile.DeleteQuietly(roots.Resolve(to, StagedCopy(relative)));
    }

    /// <summary>What the move's commit renames into place.</summary>
    public IReadOnlyList<Publication> Publications(IEnumerable<string> copied, LakeLocation to) =>
        [.. copied.Select(relative => new Publication(roots.Resolve(to, StagedCopy(relative)), to, relative))];

    private static LocationUnavailableException WentAway(LakeLocation location, string root, string detail) =>
        new($"The {location} path {root} went away during the copy ({detail}); nothing was switched.");

    private static void Verify(string tmp, PartFile expected)
    {
        var length = new FileInfo(tmp).Length;
        if (length != expected.Bytes)
            throw new IOException($"The copy of {expected.Name} is {length} bytes; the manifest records {expected.Bytes}.");
        // The footer alone: a file of the first implementation, adopted by a takeover, has other columns.
        using var reader = new ParquetSharp.ParquetFileReader(tmp);
        if (reader.FileMetaData.NumRows != expected.Rows)
            throw new IOException($"The copy of {expected.Name} has {reader.FileMetaData.NumRows} rows in its footer; the manifest records {expected.Rows}.");
    }
}
