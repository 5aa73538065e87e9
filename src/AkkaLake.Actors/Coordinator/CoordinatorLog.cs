using Akka.Event;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Takeover;

namespace AkkaLake.Actors.Coordinator;

/// <summary>What the coordinator tells the operator: the lake it opened and what recovery did, or why it could not open it.</summary>
internal sealed class CoordinatorLog(ILoggingAdapter log, LakeSettings settings)
{
    public void Opened(LakeManifest manifest, RecoveryReport recovery, AdoptionReport? adopted)
    {
        if (adopted is { } a)
            log.Info("Took over the lake the controller's first implementation wrote: {Partitions} days, {Files} files, {Rows} rows adopted as they are, " +
                "watermark {Watermark}; its manifest and replication.json are kept as {Kept}. Each day is now rebuilt from PostgreSQL and swapped in, newest first",
                a.Partitions, a.Files, a.Rows, Timestamps.Format(a.Watermark), string.Join(", ", a.KeptAs));
        Recovered(recovery);
        if (settings.ColdPathRemembered)
            log.Info("Using the cold path {ColdPath} the lake remembers: no --cold-path or CORE_ANALYSIS_LAKE_COLD_PATH is set", settings.ColdPath);
        log.Info("Lake ready at {HotPath}: {Partitions} partitions, {Files} files, watermark {Watermark}, commit {CommitSeq}",
            settings.HotPath, manifest.Metrics.Partitions.Count, manifest.Files().Count(),
            manifest.Metrics.ComputedThroughTs is { } w ? Timestamps.Format(w) : "none", manifest.CommitSeq);
    }

    /// <summary>Logs why the lake cannot be opened and returns the reason, in words that say what to fix.</summary>
    public string CannotOpen(Exception error)
    {
        var reason = error is UnauthorizedAccessException
            ? $"{error.Message} The hot path {settings.HotPath} must be writable by the user AkkaLake runs as ({Environment.UserName}); fix its owner or permissions."
            : error.Message;
        log.Error("The lake cannot be opened: {Reason}", reason);
        return reason;
    }

    public void DeletedDue(IReadOnlyList<string> deleted, IReadOnlyList<string> warnings)
    {
        if (deleted.Count > 0)
            log.Info("Deleted {Files} files whose grace period ended", deleted.Count);
        foreach (var w in warnings) log.Warning("{Warning}", w);
    }

    public void NotDone(string description, Exception error, bool conflict) =>
        log.Warning("The {What} was not committed: {Error}", description,
            conflict ? "the lake changed meanwhile; it will be retried. " + error.Message : error.Message);

    public void Undid(PendingCommit? undone)
    {
        if (undone is not null)
            log.Warning("Undid unfinished commit {CommitSeq} ({Kind}, run {RunId})", undone.CommitSeq, undone.Kind, undone.RunId);
    }

    private void Recovered(RecoveryReport r)
    {
        if (r.UndoneCommit is { } u)
            log.Warning("Recovery: commit {CommitSeq} ({Kind}, run {RunId}) was interrupted before it committed; undone, {Files} files removed",
                u.CommitSeq, u.Kind, u.RunId, u.Files.Count);
        if (r.RemovedTmpFiles.Count > 0)
            log.Info("Recovery: removed {Files} unfinished .tmp files", r.RemovedTmpFiles.Count);
        if (r.RemovedUnreferencedParts.Count > 0)
            log.Warning("Recovery: removed {Files} part files that no commit references: {Paths}", r.RemovedUnreferencedParts.Count, string.Join(", ", r.RemovedUnreferencedParts.Take(10)));
        if (r.DeletedDueFiles.Count > 0)
            log.Info("Recovery: deleted {Files} files whose grace period ended", r.DeletedDueFiles.Count);
        if (r.RemovedSpillFiles > 0)
            log.Info("Recovery: removed {Files} files of sorted rows an interrupted batch had spilled to the scratch path", r.RemovedSpillFiles);
        foreach (var w in r.Warnings) log.Warning("Recovery: {Warning}", w);
    }
}
