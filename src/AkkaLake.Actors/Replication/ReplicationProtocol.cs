using AkkaLake.Core.Manifest;

namespace AkkaLake.Actors.Replication;

/// <summary>What the replication actor is told and tells, besides the coordinator's protocol.</summary>
public static class ReplicationProtocol
{
    /// <summary>Start a cycle: the interval's timer, or the first one at start.</summary>
    public sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>From the daemon: the coordinator failed and was restarted, so a commit it was given may never be answered.</summary>
    public sealed record CoordinatorRestarted
    {
        public static readonly CoordinatorRestarted Instance = new();
    }

    /// <summary>Sent to the listener after each cycle (backfill days plus one incremental batch).</summary>
    public sealed record CycleCompleted(bool Succeeded, string? Error, LakeManifest? Manifest);

    /// <summary>
    /// Told to the parent when the replication actor itself failed (a defect, not a batch that did
    /// not commit) and is being restarted; it starts again after <see cref="ReplicationActor.RestartDelay"/>.
    /// </summary>
    public sealed record Crashed(string Error);
}
