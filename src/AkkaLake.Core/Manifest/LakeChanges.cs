using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Retention;
using AkkaLake.Core.State;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// Every change a writer makes to the lake, the one way the coordinator (off its thread, one at
/// a time) and the commands run by hand make it. Each commit runs <see cref="LakeCommitter"/>'s
/// protocol; with no deletion grace, what it superseded is deleted with it (if that fails, the
/// next deletion of what is due retries).
/// </summary>
public sealed class LakeChanges(LakeSettings settings, ManifestStore store, IFaultPoints faults)
{
    private readonly LakeRoots _roots = settings.Roots;

    /// <summary>The store every change goes through; open the lake with it (<see cref="LakeOpener.Open"/>).</summary>
    public ManifestStore Store => store;
    private readonly LakeCommitter _committer = new(store, settings.Roots, faults);
    private readonly LakeRecovery _recovery = new(store, settings.Roots);
    private readonly ReplicationStateStore _state = new(settings.StatePath);

    /// <summary>A replication, backfill, rebuild or compaction batch: its staged parts in, the files it replaces out.</summary>
    public LakeManifest Commit(LakeManifest current, LakeCommit change, IReadOnlyList<StagedPart> parts) =>
        DeleteAtOnceWithoutGrace(_committer.Commit(current, change, parts, DateTimeOffset.UtcNow, settings.DeleteGrace));

    /// <summary>Makes the copy of a partition at <paramref name="to"/> (its files copied there already) the one readers see.</summary>
    public LakeManifest Move(LakeManifest current, DateOnly date, LakeLocation from, LakeLocation to, IReadOnlySet<string> copied)
    {
        var now = DateTimeOffset.UtcNow;
        var publications = new PartitionCopier(_roots).Publications(copied, to);
        var next = _committer.Switch(current,
            current.MovePartition(date, from, to, copied, now, now + settings.DeleteGrace), CommitKind.Move, RunId.New(now), publications, now);
        faults.Hit("move.after-manifest");
        return DeleteAtOnceWithoutGrace(next);
    }

    /// <summary>Drops a partition past the horizon from a hot-only lake (PostgreSQL keeps its rows).</summary>
    public LakeManifest Expire(LakeManifest current, DateOnly date)
    {
        var now = DateTimeOffset.UtcNow;
        return DeleteAtOnceWithoutGrace(_committer.Switch(current,
            current.ExpirePartition(date, now, now + settings.DeleteGrace), CommitKind.Expiry, RunId.New(now), [], now));
    }

    /// <summary>Records that a day is to be rebuilt from PostgreSQL, in one atomic save of the manifest (no file changes).</summary>
    public LakeManifest MarkForRebuild(LakeManifest current, DateOnly day, RebuildMark mark)
    {
        var next = current.MarkForRebuild(day, mark, DateTimeOffset.UtcNow);
        store.Save(next);
        return next;
    }

    /// <summary>Deletes the superseded files whose grace period has passed.</summary>
    public (LakeManifest Next, IReadOnlyList<string> Deleted, IReadOnlyList<string> Warnings) DeleteDue(LakeManifest current)
    {
        faults.Hit("delete.due");
        var warnings = new List<string>();
        var (next, deleted) = _recovery.DeleteDue(current, DateTimeOffset.UtcNow, warnings);
        return (next, deleted, warnings);
    }

    /// <summary>Undoes the commit that failed, and only it: other work in flight keeps its .tmp files.</summary>
    public (LakeManifest Recovered, PendingCommit? Undone) UndoFailed(LakeManifest inMemory)
    {
        faults.Hit("commit.undo");
        return _recovery.UndoPending(store.Load() ?? inMemory, DateTimeOffset.UtcNow);
    }

    /// <summary>Writes replication.json, which mirrors the manifest's watermark and says how the last run went.</summary>
    public void SaveState(ReplicationState state)
    {
        faults.Hit("state.save");
        _state.Save(state);
    }

    public ReplicationState? LoadState() => _state.Load();

    /// <summary>The commit has landed whatever happens here: a deletion that fails is left to the next deletion of what is due.</summary>
    private LakeManifest DeleteAtOnceWithoutGrace(LakeManifest committed)
    {
        if (settings.DeleteGrace != TimeSpan.Zero) return committed;
        try
        {
            return DeleteDue(committed).Next;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return committed;
        }
    }
}
