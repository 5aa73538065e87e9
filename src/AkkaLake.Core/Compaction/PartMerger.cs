using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Merging;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Compaction;

/// <summary>What a merge wrote and dropped.</summary>
public sealed record MergeResult(IReadOnlyList<StagedPart> Outputs, long RowsIn, long RowsOut, long SupersededRows);

/// <summary>
/// Merges a compaction job's sorted part files into new sorted parts with <see cref="SortedMerge"/>,
/// keeping for each (sensor_id, ts) only the row of the newest data version, in the merge's
/// bounded memory whatever the file sizes. Outputs roll over at the policy's size target.
/// </summary>
public sealed class PartMerger(LakeRoots roots, int chunkRows = 65_536, int rowGroupRows = 1_000_000)
{
    public MergeResult Merge(CompactionJob job, string runId, long targetFileBytes, CancellationToken ct = default)
    {
        var batchRows = SortedMerge.InputBatchRows(job.Inputs.Count);
        var readers = new List<PartReader>();
        try
        {
            foreach (var f in job.Inputs)
                readers.Add(new PartReader(roots.Resolve(job.Location, LakeLayout.FilePath(job.Date, job.Shard, f.Name))));
            var inputs = readers.Select((r, i) => new MergeInput(r.ReadBatches(batchRows), CompactionPlanner.Order(job.Inputs[i]))).ToList();
            var metadata = new PartMetadata(runId, CommitKind.Compaction,
                job.Inputs.Select(f => f.CursorFrom).Min(), job.Inputs.Select(f => f.CursorTo).Max(), [.. job.Inputs.Select(f => f.Name)]);
            using var output = new SlicedPartWriter(roots.RootOf(job.Location), new ShardDay(job.Date, job.Shard), PartKind.Compaction, metadata, rowGroupRows, targetFileBytes, job.SplitAt);
            var tally = new MergeTally();
            long rowsOut = 0;
            foreach (var chunk in SortedMerge.Merge(inputs, chunkRows, newestOnly: true, tally))
            {
                ct.ThrowIfCancellationRequested();
                output.Append(chunk);
                rowsOut += chunk.Count;
            }
            ct.ThrowIfCancellationRequested();
            var outputs = output.Finish()
                .Select(o => new StagedPart(job.Date, job.Shard, job.Location, o.FileName, o.Written, metadata, job.OutputLevel, job.Version))
                .ToList();
            return new MergeResult(outputs, tally.RowsIn, rowsOut, tally.Superseded);
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
        }
    }
}
