using System.Collections.Immutable;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// The commit protocol. (1) The commit is checked against the manifest (pure; a conflict touches
/// nothing). (2) The manifest is saved with the commit recorded as pending. (3) Each staged
/// <c>.tmp</c> is renamed to its final name. (4) The manifest is saved with the commit applied:
/// this single atomic write is the commit point. A crash before (4) leaves a pending commit that
/// recovery undoes; readers that use the manifest never see the files of an unfinished commit.
/// </summary>
public sealed class LakeCommitter(ManifestStore store, LakeRoots roots, IFaultPoints? faults = null)
{
    private readonly IFaultPoints _faults = faults ?? FaultPoints.None;

    public LakeManifest Commit(LakeManifest current, LakeCommit commit, IReadOnlyList<StagedPart> staged, DateTimeOffset now, TimeSpan deleteGrace)
    {
        var commitWithFiles = commit with { Adds = commit.Adds.AddRange(staged.Select(s => s.ToAdd())) };
        var applied = current.Apply(commitWithFiles, now, now + deleteGrace);
        var pending = new PendingCommit(current.CommitSeq + 1, commit.Kind, commit.RunId, now,
            staged.Select(s => new FileLocation(s.Location, s.RelativePath)).ToImmutableList());
        var begun = current.Begin(pending);
        if (staged.Any(s => s.Location == Locations.Cold))
            ColdMarker.Ensure(current, roots.Cold ?? throw new LocationUnavailableException("No cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH)."));

        store.Save(begun);
        _faults.Hit("commit.after-pending");
        foreach (var part in staged)
        {
            AtomicFile.Publish(part.Written.TmpPath, roots.Resolve(part.Location, part.RelativePath));
            _faults.Hit("commit.after-rename");
        }
        store.Save(applied);
        _faults.Hit("commit.after-manifest");
        return applied;
    }
}
