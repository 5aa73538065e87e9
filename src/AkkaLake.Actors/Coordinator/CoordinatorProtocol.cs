using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.State;

namespace AkkaLake.Actors.Coordinator;

/// <summary>Messages of the <see cref="LakeCoordinator"/>.</summary>
public static class CoordinatorProtocol
{
    public sealed record GetManifest
    {
        public static readonly GetManifest Instance = new();
    }

    public sealed record ManifestSnapshot(LakeManifest Manifest);

    /// <summary>
    /// Reconciliation found this day differing from PostgreSQL in a check begun at <see cref="FoundAt"/>:
    /// recorded in the manifest until a rebuild planned after then commits. Answered like a commit.
    /// </summary>
    public sealed record MarkForRebuild(DateOnly Day, string Reason, DateTimeOffset FoundAt);

    /// <summary>
    /// Publish the staged parts and apply the commit in one atomic manifest change. A replication
    /// run brings its <see cref="RunReport"/> for replication.json; compaction does not.
    /// </summary>
    public sealed record Commit(LakeCommit Change, IReadOnlyList<StagedPart> Parts, RunReport? Report);

    /// <summary>Make the copy of a partition at <see cref="To"/> authoritative (its files are already there).</summary>
    public sealed record MovePartition(DateOnly Date, LakeLocation From, LakeLocation To, IReadOnlySet<string> Copied);

    /// <summary>Drop a partition past the horizon from a hot-only lake.</summary>
    public sealed record ExpirePartition(DateOnly Date);

    /// <summary>Sent to the compaction and retention actors after every change.</summary>
    public sealed record LakeChanged(LakeManifest Manifest);

    public sealed record CommitSucceeded(LakeManifest Manifest);

    public sealed record CommitFailed(string Reason, bool Conflict);

    /// <summary>A run that did not commit; recorded in replication.json.</summary>
    public sealed record RecordFailure(RunReport Report, string Error);

    /// <summary>Sent to the lifecycle listener once the lake is loaded and recovered.</summary>
    public sealed record Ready(LakeManifest Manifest, RecoveryReport Recovery);

    /// <summary>Sent to the lifecycle listener when the lake cannot be opened (locked, unreadable, misconfigured).</summary>
    /// <param name="LakeInUse">Another writer holds the lake.</param>
    public sealed record StartFailed(string Reason, bool LakeInUse = false);

    public sealed record DeleteDueFiles
    {
        public static readonly DeleteDueFiles Instance = new();
    }

    /// <summary>Answered in every mode, at once: what the coordinator is doing and the manifest it holds.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <param name="Mode">opening the lake, serving, or the change under way (e.g. "replication run …").</param>
    /// <param name="Manifest">The manifest as the coordinator holds it; null while the lake is opening.</param>
    /// <param name="Since">When the coordinator began what <paramref name="Mode"/> says.</param>
    public sealed record CoordinatorStatus(string Mode, LakeManifest? Manifest, DateTimeOffset Since);

    /// <summary>Stop once the file work under way is done (the daemon's orderly shutdown).</summary>
    public sealed record Drain
    {
        public static readonly Drain Instance = new();
    }
}
