namespace AkkaLake.Actors.Replication;

/// <summary>What the replication actor is asked to do.</summary>
public abstract record ReplicationJob
{
    /// <summary>Cycle on the tick interval until stopped.</summary>
    public sealed record Continuous : ReplicationJob;

    /// <summary>One cycle: backfill if needed, then one incremental batch.</summary>
    public sealed record Once : ReplicationJob;

    /// <summary>Rebuild these days by hand (<c>akkalake backfill</c>).</summary>
    public sealed record Backfill(DateOnly From, DateOnly To, bool Replace) : ReplicationJob;

    /// <summary>Rebuild exactly these days, newest first (<c>akkalake reconcile</c>); the first backfill must be complete.</summary>
    public sealed record Rebuild(IReadOnlyList<DateOnly> Days) : ReplicationJob;

    public bool Repeats => this is Continuous;
}
