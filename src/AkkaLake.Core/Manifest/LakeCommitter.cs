using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Manifest;

/// <summary>A finished, flushed <c>.tmp</c> that a commit renames to its final lake-relative path.</summary>
public sealed record Publication(string TmpPath, LakeLocation Location, string RelativePath);

/// <summary>
/// The commit protocol. (1) The change is checked against the manifest (pure; a conflict touches
/// nothing). (2) The commit's intent is recorded (<see cref="ManifestStore.BeginCommit"/>: what it
/// publishes and supersedes). (3) Each file the change supersedes is renamed out of the
/// <c>*.parquet</c> namespace (<see cref="LakeLayout.SupersededSuffix"/>). (4) Each staged
/// <c>.tmp</c> is renamed to its final name. (5) The manifest is saved with the change applied:
/// its root's atomic write is the commit point. A crash before (5) leaves an intent past the root
/// that recovery undoes, so directories hold exactly the committed files but for the instant of
/// the renames, when a directory reader may miss rows being replaced but never sees a row twice
/// (old files go before new ones come).
/// </summary>
public sealed class LakeCommitter(ManifestStore store, LakeRoots roots, IFaultPoints? faults = null)
{
    private readonly IFaultPoints _faults = faults ?? FaultPoints.None;

    public LakeManifest Commit(LakeManifest current, LakeCommit commit, IReadOnlyList<StagedPart> staged, DateTimeOffset now, TimeSpan deleteGrace)
    {
        var commitWithFiles = commit with { Adds = commit.Adds.AddRange(staged.Select(s => s.ToAdd())) };
        var applied = current.Apply(commitWithFiles, now, now + deleteGrace);
        return Switch(current, applied, commit.Kind, commit.RunId, [.. staged.Select(s => s.ToPublication())], now);
    }

    /// <summary>
    /// Runs the protocol for any change <paramref name="applied"/> made to <paramref name="current"/>
    /// (one commit further): the files it publishes come in, the files it schedules for deletion go out.
    /// </summary>
    public LakeManifest Switch(LakeManifest current, LakeManifest applied, CommitKind kind, string runId, IReadOnlyList<Publication> publications, DateTimeOffset now)
    {
        var retired = applied.PendingDeletions.Except(current.PendingDeletions)
            .Select(d => new FileLocation(d.Location, d.Path)).ToImmutableList();
        var pending = new PendingCommit(current.CommitSeq + 1, kind, runId, now,
            publications.Select(p => new FileLocation(p.Location, p.RelativePath)).ToImmutableList(), retired);
        current.Begin(pending);
        if (publications.Any(p => p.Location == LakeLocation.Cold))
            ColdMarker.Ensure(current, roots.Cold ?? throw new LocationUnavailableException("No cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH)."));

        store.BeginCommit(pending, applied.PendingDeletions.Except(current.PendingDeletions));
        _faults.Hit("commit.after-pending");
        foreach (var r in retired)
        {
            var path = roots.Resolve(r.Location, r.Path);
            AtomicFile.Rename(path, LakeLayout.SupersededPath(path));
            _faults.Hit("commit.after-retire");
        }
        foreach (var p in publications)
        {
            AtomicFile.Publish(p.TmpPath, roots.Resolve(p.Location, p.RelativePath));
            _faults.Hit("commit.after-rename");
        }
        store.Save(applied);
        _faults.Hit("commit.after-manifest");
        return applied;
    }
}
