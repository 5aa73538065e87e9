using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Recovery;

/// <summary>What recovery found and did, for the log.</summary>
public sealed record RecoveryReport(
    PendingCommit? UndoneCommit,
    IReadOnlyList<string> RemovedTmpFiles,
    IReadOnlyList<string> RemovedUnreferencedParts,
    IReadOnlyList<string> DeletedDueFiles,
    IReadOnlyList<string> Warnings,
    int RemovedSpillFiles = 0)
{
    public bool DidSomething => UndoneCommit is not null || RemovedTmpFiles.Count + RemovedUnreferencedParts.Count + DeletedDueFiles.Count + RemovedSpillFiles > 0;
}

/// <summary>
/// Brings a lake back to exactly what its manifest says after a crash: undoes a commit that was
/// in progress, takes files awaiting deletion out of the <c>*.parquet</c> namespace, removes
/// <c>.tmp</c>, part and superseded files that no commit references, and deletes files whose
/// deletion grace has passed. Foreign files are reported, never touched.
/// </summary>
public sealed class LakeRecovery(ManifestStore store, LakeRoots roots)
{
    public (LakeManifest Manifest, RecoveryReport Report) Recover(LakeManifest manifest, DateTimeOffset now)
    {
        var warnings = new List<string>();
        (manifest, var undone) = UndoPending(manifest, now);
        RetirePendingDeletions(manifest);

        var (afterDeletions, deleted) = DeleteDue(manifest, now, warnings);
        manifest = afterDeletions;

        if (roots.Cold is { } cold && !Directory.Exists(LakeLayout.Resolve(cold, LakeLayout.Dataset)) && manifest.Files().Any(f => f.Location == LakeLocation.Cold))
            warnings.Add($"The cold path {cold} is not available; cold partitions could not be checked.");
        var tmps = new List<string>();
        var unreferenced = new List<string>();
        var strays = StrayFiles.Find(manifest, roots).ToList();
        RefuseIfTheManifestDoesNotDescribeTheLake(manifest, strays);
        foreach (var stray in strays)
        {
            if (!stray.IsOurs)
            {
                warnings.Add($"{stray.Location}:{stray.RelativePath} is not in the manifest and was not written by AkkaLake; readers that list directories read it as part of the lake. Move it out of the lake, or take the lake over (see the README).");
                continue;
            }
            File.Delete(stray.FullPath);
            (stray.Kind == StrayKind.Tmp ? tmps : unreferenced).Add($"{stray.Location}:{stray.RelativePath}");
        }
        foreach (var stateTmp in Directory.Exists(store.StatePath) ? Directory.GetFiles(store.StatePath, "*" + AtomicFile.TmpSuffix) : [])
        {
            File.Delete(stateTmp);
            tmps.Add($"state:{Path.GetFileName(stateTmp)}");
        }
        return (manifest, new RecoveryReport(undone, tmps, unreferenced, deleted, warnings));
    }

    /// <summary>
    /// A crash never loses a committed file, so committed files missing while unreferenced parts
    /// sit beside them mean a manifest that is damaged or not this lake's: deleting those parts
    /// could delete the lake. Nothing is touched, and the operator is told how to check.
    /// </summary>
    private void RefuseIfTheManifestDoesNotDescribeTheLake(LakeManifest manifest, IReadOnlyList<StrayFile> strays)
    {
        var parts = strays.Where(s => s.Kind == StrayKind.Part).ToList();
        if (parts.Count == 0) return;
        var reachable = roots.Configured().Where(r => Directory.Exists(r.Root)).Select(r => r.Location).ToHashSet();
        var missing = manifest.Files().Where(f => reachable.Contains(f.Location) && !File.Exists(roots.Resolve(f.Location, f.RelativePath))).ToList();
        if (missing.Count == 0) return;
        throw new ManifestUnreadableException(
            $"The manifest {store.FilePath} names {missing.Count} files that do not exist (e.g. {missing[0].Location}:{missing[0].RelativePath}) while {parts.Count} lake files it does not name sit in the partitions " +
            $"(e.g. {parts[0].Location}:{parts[0].RelativePath}): it does not describe this lake. Nothing was deleted; check it with 'akkalake verify', or rebuild it from the files with 'akkalake verify --rebuild-manifest'.");
    }

    /// <summary>
    /// Undoes only an unfinished commit: its files (published or still <c>.tmp</c>) are removed and
    /// the pending record cleared. Used while other work is in flight, whose <c>.tmp</c> files a
    /// full sweep would destroy.
    /// </summary>
    public (LakeManifest Manifest, PendingCommit? Undone) UndoPending(LakeManifest manifest, DateTimeOffset now)
    {
        if (manifest.PendingCommit is not { } pending) return (manifest, null);
        foreach (var file in pending.Files)
        {
            var path = roots.Resolve(file.Location, file.Path);
            File.Delete(path);
            File.Delete(path + AtomicFile.TmpSuffix);
        }
        foreach (var file in pending.Retired ?? [])
        {
            var path = roots.Resolve(file.Location, file.Path);
            if (!File.Exists(path)) AtomicFile.Rename(LakeLayout.SupersededPath(path), path);
        }
        manifest = manifest.AbandonPending(now);
        store.Save(manifest);
        store.AbandonCommit(pending);
        return (manifest, pending);
    }

    /// <summary>
    /// Files awaiting deletion that still carry their <c>.parquet</c> name (a lake written before
    /// superseded files were renamed) are renamed now, unless a later commit published that name again.
    /// </summary>
    private void RetirePendingDeletions(LakeManifest manifest)
    {
        var committed = roots.Configured().ToDictionary(r => r.Location, r => manifest.CommittedPaths(r.Location));
        foreach (var d in manifest.PendingDeletions)
        {
            if (!committed.TryGetValue(d.Location, out var paths) || paths.Contains(d.Path)) continue;
            var path = roots.Resolve(d.Location, d.Path);
            AtomicFile.Rename(path, LakeLayout.SupersededPath(path));
        }
    }

    /// <summary>Deletes files whose grace period has passed and drops them from the manifest.</summary>
    public (LakeManifest Manifest, IReadOnlyList<string> Deleted) DeleteDue(LakeManifest manifest, DateTimeOffset now, List<string> warnings)
    {
        var (remaining, due) = manifest.TakeDueDeletions(now);
        if (due.Count == 0) return (manifest, []);
        var deleted = new List<string>();
        var kept = new List<PendingDeletion>();
        foreach (var d in due)
        {
            try
            {
                var path = roots.Resolve(d.Location, d.SupersededPath);
                if (File.Exists(path)) File.Delete(path);
                deleted.Add($"{d.Location}:{d.Path}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                warnings.Add($"Could not delete {d.Location}:{d.Path} ({e.Message}); will retry.");
                kept.Add(d);
            }
        }
        remaining = remaining with { PendingDeletions = remaining.PendingDeletions.AddRange(kept) };
        store.SaveDeletions(remaining);
        return (remaining, deleted);
    }
}
