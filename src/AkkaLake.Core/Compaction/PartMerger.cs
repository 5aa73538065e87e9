using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Compaction;

/// <summary>What a merge wrote and dropped.</summary>
public sealed record MergeResult(IReadOnlyList<StagedPart> Outputs, long RowsIn, long RowsOut, long SupersededRows);

/// <summary>
/// Streams a k-way merge of sorted part files into new sorted parts, keeping for each
/// (sensor_id, ts) only the row of the newest data version. Memory is a batch per input plus one
/// output batch, whatever the file sizes; the inputs' batches together hold at most
/// <see cref="InputRows"/> rows, however many files are merged. Outputs roll over at the policy's size target.
/// </summary>
public sealed class PartMerger(LakeRoots roots, int batchRows = 65_536, int rowGroupRows = 1_000_000)
{
    public const int InputRows = 262_144;

    public MergeResult Merge(CompactionJob job, string runId, long targetFileBytes, CancellationToken ct = default)
    {
        var perInput = Math.Min(batchRows, Math.Max(1_024, InputRows / Math.Max(1, job.Inputs.Count)));
        var inputs = job.Inputs
            .Select(f => new Input(new PartReader(roots.Resolve(job.Location, LakeLayout.FilePath(job.Date, job.Shard, f.Name))), CompactionPlanner.Order(f), perInput))
            .ToList();
        var metadata = new PartMetadata(runId, CommitKind.Compaction,
            job.Inputs.Select(f => f.CursorFrom).Min(), job.Inputs.Select(f => f.CursorTo).Max(), [.. job.Inputs.Select(f => f.Name)]);
        using var output = new RollingPartWriter(roots.RootOf(job.Location), new ShardDay(job.Date, job.Shard), PartKind.Compaction, metadata, rowGroupRows, targetFileBytes);
        var buffer = new MetricRows(batchRows);
        long rowsIn = 0, rowsOut = 0, superseded = 0;
        try
        {
            var queue = new PriorityQueue<int, Key>(KeyOrder.Instance);
            for (var i = 0; i < inputs.Count; i++)
                if (inputs[i].Advance()) queue.Enqueue(i, inputs[i].Key);

            Key? last = null;
            while (queue.TryDequeue(out var index, out var key))
            {
                var input = inputs[index];
                rowsIn++;
                if (last is { } l && l.SensorId == key.SensorId && l.Ts == key.Ts)
                {
                    superseded++;
                }
                else
                {
                    buffer.AddFrom(input.Batch!, input.Position);
                    last = key;
                    if (buffer.Count == batchRows)
                    {
                        ct.ThrowIfCancellationRequested();
                        output.Append(buffer);
                        rowsOut += buffer.Count;
                        buffer.Clear();
                    }
                }
                if (input.Advance()) queue.Enqueue(index, input.Key);
            }
            output.Append(buffer);
            rowsOut += buffer.Count;
            ct.ThrowIfCancellationRequested();
            var outputs = output.Finish()
                .Select(o => new StagedPart(job.Date, job.Shard, job.Location, o.FileName, o.Written, metadata, job.OutputLevel, job.Version))
                .ToList();
            return new MergeResult(outputs, rowsIn, rowsOut, superseded);
        }
        finally
        {
            foreach (var input in inputs) input.Dispose();
        }
    }

    private readonly record struct Key(string SensorId, long Ts, long Version);

    /// <summary>(sensor_id in UTF-8 order, ts), and for equal keys the newest version first.</summary>
    private sealed class KeyOrder : IComparer<Key>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(Key a, Key b)
        {
            var c = MetricRows.CompareKeys(a.SensorId, a.Ts, b.SensorId, b.Ts);
            return c != 0 ? c : b.Version.CompareTo(a.Version);
        }
    }

    private sealed class Input(PartReader reader, long version, int batchRows) : IDisposable
    {
        private readonly IEnumerator<MetricRows> _batches = reader.ReadBatches(batchRows).GetEnumerator();

        public MetricRows? Batch { get; private set; }
        public int Position { get; private set; } = -1;
        public Key Key => new(Batch!.SensorIds[Position], Batch.TsMicros[Position], version);

        public bool Advance()
        {
            if (Batch is not null && ++Position < Batch.Count) return true;
            while (_batches.MoveNext())
            {
                Batch = _batches.Current;
                Position = 0;
                if (Batch.Count > 0) return true;
            }
            Batch = null;
            return false;
        }

        public void Dispose()
        {
            _batches.Dispose();
            reader.Dispose();
        }
    }
}
