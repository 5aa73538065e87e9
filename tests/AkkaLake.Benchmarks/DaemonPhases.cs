using AkkaLake.Core;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Recovery;

namespace AkkaLake.Benchmarks;

/// <summary>
/// The daemon's memory in the phases that do not start it from an empty lake: compaction catching
/// up on a fragmented lake, a reconciliation pass, and idle. Each runs the real program as its own process.
/// </summary>
internal sealed class DaemonPhases(string exe, string conf, string database)
{
    /// <summary>
    /// A copy of a backfilled lake whose every shard-day is split into <paramref name="parts"/>
    /// open parts of contiguous sensors, as an older build's spilling backfill, or many small
    /// incremental commits, left it; committed in one manifest change.
    /// </summary>
    public static (int Files, long Bytes) Fragment(LakeSettings from, LakeSettings to, int parts)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to.HotPath)!);
        var copy = System.Diagnostics.Process.Start("cp", ["-a", from.HotPath, to.HotPath])!;
        copy.WaitForExit();
        if (copy.ExitCode != 0) throw new IOException($"could not copy {from.HotPath}");
        var store = new ManifestStore(to.StatePath);
        var manifest = store.Load()!;
        var now = DateTimeOffset.UtcNow;
        var runId = RunId.New(now);
        var metadata = new PartMetadata(runId, CommitKind.Replication, manifest.Metrics.ComputedThroughTs, manifest.Metrics.ComputedThroughTs);
        var staged = new System.Collections.Concurrent.ConcurrentBag<StagedPart>();
        var shardDays = manifest.Files().GroupBy(f => (f.Location, f.Date, f.Shard)).ToList();
        Parallel.ForEach(shardDays, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, files =>
        {
            var (location, date, shard) = files.Key;
            var read = files.Select(f =>
            {
                using var reader = new PartReader(to.Roots.Resolve(location, f.RelativePath));
                return reader.ReadAll();
            }).ToList();
            var rows = MetricRows.Sorted(read);
            var slice = (rows.Count + parts - 1) / parts;
            for (var p = 0; p * slice < rows.Count; p++)
            {
                var part = new MetricRows(slice);
                part.AddRange(rows, p * slice, Math.Min(slice, rows.Count - p * slice));
                var name = LakeLayout.FileName(PartKind.Incremental, runId, p);
                var tmp = to.Roots.Resolve(location, LakeLayout.FilePath(date, shard, name)) + ".tmp";
                staged.Add(new StagedPart(date, shard, location, name, PartWriter.Write(tmp, part, metadata, to.RowGroupRows), metadata));
            }
        });
        var removes = manifest.Files().Select(f => new FileRemove(f.Date, f.Shard, f.File.Name)).ToList();
        var committed = new LakeCommitter(store, to.Roots).Commit(manifest, new LakeCommit(CommitKind.Replication, runId, [], [.. removes]), [.. staged], now, TimeSpan.Zero);
        committed = new LakeRecovery(store, to.Roots).DeleteDue(committed, now, []).Manifest;
        return (committed.Files().Count(), committed.Files().Sum(f => f.File.Bytes));
    }

    /// <summary>The daemon on a fragmented lake until every shard-day is at its final count (reconciliation off).</summary>
    public ProcessRun CompactionCatchUp(LakeSettings lake, TimeSpan timeout)
    {
        var store = new ManifestStore(lake.StatePath);
        bool Caught() => store.Load() is { } m && m.Metrics.Partitions.Values.All(p => p.Shards.Values.All(s => s.Files.Count <= CompactionPolicy.Default.RestFiles));
        return Measure.Process("dotnet", Daemon(lake, "run"), Caught, timeout);
    }

    /// <summary>One reconciliation pass over every day, as <c>akkalake reconcile --dry-run</c> runs it.</summary>
    public ProcessRun ReconcilePass(LakeSettings lake) => Measure.Process("dotnet", Daemon(lake, "reconcile", "--dry-run"));

    /// <summary>The daemon on an up-to-date lake for <paramref name="duration"/>; its last RSS is the idle figure.</summary>
    public ProcessRun Idle(LakeSettings lake, TimeSpan duration) => Measure.Process("dotnet", Daemon(lake, "run"), stopWhen: null, duration);

    private string[] Daemon(LakeSettings lake, params string[] command) =>
        [exe, .. command, "--config", conf, "--data-root", lake.DataRoot, "--database-url", database];
}
