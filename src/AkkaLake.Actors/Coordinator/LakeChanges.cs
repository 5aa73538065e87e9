using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Retention;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// The file work behind each request the coordinator serves. Every method runs off the actor
/// thread, one at a time (the coordinator sequences them), and takes the manifest as it was when
/// the request was served.
/// </summary>
internal sealed class LakeChanges(LakeSettings settings, ManifestStore store, ReplicationStateStore stateStore, IFaultPoints faults)
{
    private readonly LakeRoots _roots = settings.Roots;
    private readonly LakeCommitter _committer = new(store, settings.Roots, faults);
    private readonly LakeRecovery _recovery = new(store, settings.Roots);

    /// <summary>A replication or compaction batch; a replication run's report updates replication.json after the manifest.</summary>
    public (LakeManifest Next, ReplicationState? State) Commit(LakeManifest current, Commit c, ReplicationState? previous)
    {
        var next = _committer.Commit(current, c.Change, c.Parts, DateTimeOffset.UtcNow, settings.DeleteGrace);
        var state = c.Report?.ApplyTo(previous, next, settings.LateWindowHours, null);
        if (state is not null) stateStore.Save(state);
        return (next, state);
    }

    public LakeManifest Move(LakeManifest current, MovePartition m)
    {
        var now = DateTimeOffset.UtcNow;
        var publications = new PartitionCopier(_roots).Publications(m.Copied, m.To);
        var next = _committer.Switch(current,
            current.MovePartition(m.Date, m.From, m.To, m.Copied, now, now + settings.DeleteGrace), CommitKind.Move, RunId.New(now), publications, now);
        faults.Hit("move.after-manifest");
        return next;
    }

    public LakeManifest Expire(LakeManifest current, ExpirePartition e)
    {
        var now = DateTimeOffset.UtcNow;
        return _committer.Switch(current,
            current.ExpirePartition(e.Date, now, now + settings.DeleteGrace), CommitKind.Expiry, RunId.New(now), [], now);
    }

    /// <summary>With no grace period, what a commit superseded is deleted with it; if that fails, the periodic deletion retries.</summary>
    public LakeManifest DeleteAtOnceWithoutGrace(LakeManifest committed)
    {
        if (settings.DeleteGrace != TimeSpan.Zero) return committed;
        try
        {
            return _recovery.DeleteDue(committed, DateTimeOffset.UtcNow, []).Manifest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return committed;
        }
    }

    public (LakeManifest Next, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings) DeleteDue(LakeManifest current)
    {
        var warnings = new List<string>();
        var (next, deleted) = _recovery.DeleteDue(current, DateTimeOffset.UtcNow, warnings);
        return (next, deleted, warnings);
    }

    /// <summary>Undoes the commit that failed, and only it: other work in flight keeps its .tmp files.</summary>
    public (LakeManifest Recovered, PendingCommit? Undone) UndoFailed(LakeManifest inMemory) =>
        _recovery.UndoPending(store.Load() ?? inMemory, DateTimeOffset.UtcNow);

    /// <summary>On shutdown: a merge output still .tmp is one no commit will publish. Replication removes its own parts.</summary>
    public void DeleteUnpublishedMerges(LakeManifest manifest)
    {
        foreach (var stray in StrayFiles.Find(manifest, _roots).Where(IsCompactionOutput))
            AtomicFile.DeleteQuietly(stray.FullPath);
    }

    private static bool IsCompactionOutput(StrayFile stray) =>
        stray.Kind == StrayKind.Tmp && Path.GetFileName(stray.RelativePath).StartsWith(PartKind.Compaction.Prefix() + "-", StringComparison.Ordinal);
}
