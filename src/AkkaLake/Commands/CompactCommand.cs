using System.CommandLine;
using System.Globalization;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Commands;

/// <summary><c>akkalake compact [--date D] [--shard N]</c>: merge shard-days into their final files now, daemon stopped.</summary>
public static class CompactCommand
{
    public static Command Create(GlobalOptions global)
    {
        var date = new Option<string?>("--date") { Description = "Only this date (YYYY-MM-DD)." };
        var shard = new Option<int?>("--shard") { Description = "Only this shard." };
        var command = new Command("compact", "Merge every shard-day with more than one file into its final file(s) now (needs the daemon stopped).") { date, shard };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var output = result.InvocationConfiguration.Output;
            DateOnly? day = result.GetValue(date) is { } d
                ? LakeLayout.TryParseDateKey(d) ?? throw new BadInputException($"--date must be YYYY-MM-DD; got \"{d}\".")
                : null;
            using var lake = OfflineLake.Open(settings, "compact");
            var jobs = CompactionPlanner.Force(lake.Manifest, day, result.GetValue(shard));
            var merger = new PartMerger(lake.Roots, rowGroupRows: settings.RowGroupRows);
            var changes = new LakeChanges(settings, lake.Store, Hosting.EnvironmentFaults.FromEnvironment());
            var done = 0;
            var progress = Progress.For(result.InvocationConfiguration.Error, "compact", "shard-days");
            foreach (var job in jobs)
            {
                progress.Report(done, jobs.Count);
                var runId = RunId.New(DateTimeOffset.UtcNow);
                var merged = merger.Merge(job, runId, CompactionPolicy.Default.TargetFileBytes);
                lake.Manifest = changes.Commit(lake.Manifest,
                    new LakeCommit(CommitKind.Compaction, runId, [], [.. job.Inputs.Select(f => new FileRemove(job.Date, job.Shard, f.Name))]), merged.Outputs);
                done++;
                progress.WriteLine(output, $"[{done}/{jobs.Count}] {LakeLayout.DateKey(job.Date)} shard {LakeLayout.ShardKey(job.Shard)}: {job.Inputs.Count} files, {job.InputBytes:N0} bytes -> {merged.Outputs.Count} files, {merged.Outputs.Sum(o => o.Written.Bytes):N0} bytes; {merged.SupersededRows:N0} superseded versions dropped");
            }
            progress.Report(done, jobs.Count);
            (lake.Manifest, _, _) = changes.DeleteDue(lake.Manifest);
            output.WriteLine(jobs.Count == 0 ? "Nothing to compact."
                : settings.DeleteGrace > TimeSpan.Zero
                    ? $"Compacted {jobs.Count} shard-days. The old files are out of readers' sight and are deleted after the grace period by the daemon, or at its next start."
                    : $"Compacted {jobs.Count} shard-days; the old files are deleted.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
