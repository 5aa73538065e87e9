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

    /// <param name="DaysToRebuild">Days reconciliation found differing from PostgreSQL, for the replication actor to rebuild.</param>
    public sealed record ManifestSnapshot(LakeManifest Manifest, IReadOnlySet<DateOnly>? DaysToRebuild = null);

    /// <summary>Reconciliation found this day differing from PostgreSQL: it is to be rebuilt from there.</summary>
    public sealed record RebuildDay(DateOnly Day, string Reason);

    /// <summary>The replication actor took this day to rebuild; on failure it asks again with <see cref="RebuildDay"/>.</summary>
    public sealed record RebuildTaken(DateOnly Day);

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
    public sealed record StartFailed(string Reason);

    public sealed record DeleteDueFiles
    {
        public static readonly DeleteDueFiles Instance = new();
    }

    /// <summary>Answered in every mode, at once: what the coordinator is doing and the manifest it holds.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <param name="Mode">opening, serving, or the file work under way (e.g. "committing backfill run …").</param>
    /// <param name="Manifest">The manifest as the coordinator holds it; null while the lake is opening.</param>
    public sealed record CoordinatorStatus(string Mode, LakeManifest? Manifest);

    /// <summary>Stop once the file work under way is done (the daemon's orderly shutdown).</summary>
    public sealed record Drain
    {
        public static readonly Drain Instance = new();
    }
}
