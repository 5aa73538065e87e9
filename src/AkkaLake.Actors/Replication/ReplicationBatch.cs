using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Core;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;

namespace AkkaLake.Actors.Replication;

/// <summary>A batch being written by its <see cref="BatchWriter"/>, then committed.</summary>
/// <param name="Manifest">The manifest the batch was planned from.</param>
/// <param name="Writer">The batch's <see cref="BatchWriter"/>.</param>
internal sealed record ReplicationBatch(ReplicationStep Step, string RunId, SourceTable Table, DateTimeOffset StartedAt, LakeManifest Manifest, IActorRef Writer)
{
    /// <summary>Rows inserted within the lag guard of the database's now, left for a later batch.</summary>
    public long HeldBackByLag { get; init; }

    /// <summary>The clock the batch was planned with, to plan the next backfill day before this one is committed.</summary>
    public DatabaseClock? PlannedWith { get; init; }

    /// <summary>The run as <c>replication.json</c> records it; a batch that was not written reports no rows.</summary>
    public RunReport Report(BatchWriter.Written? written, DateTimeOffset finishedAt)
    {
        var (from, to) = Step is ReplicationStep.Incremental i ? (i.Window.After, i.Window.Through) : Step.CursorRange;
        return new RunReport(RunId, Step.CommitKind.Name, StartedAt, finishedAt, written?.Tally.Rows ?? 0, written?.Parts.Count ?? 0,
            written?.Parts.Sum(p => p.Written.Bytes) ?? 0, from, to,
            written?.Tally.MaxInsertedAtMicros is { } m ? Timestamps.FromMicros(m) : null);
    }
}
