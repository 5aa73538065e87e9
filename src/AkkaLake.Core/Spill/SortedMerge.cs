using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Spill;

/// <summary>
/// Merges sorted inputs (spilled runs, the rows still in memory) into one sorted stream of
/// chunks. Rows move a block at a time: the input with the smallest head gives every row that
/// sorts before the next input's head in one copy, so inputs that hold different sensors (a
/// table stored sensor by sensor) cost about one comparison per sensor, not per row. Rows with
/// equal keys are all kept. Memory is one batch per input plus the chunk.
/// </summary>
public static class SortedMerge
{
    /// <summary>The merged rows in chunks of at most <paramref name="chunkRows"/>; a chunk is reused, valid until the next is asked for.</summary>
    public static IEnumerable<MetricRows> Merge(IReadOnlyList<IEnumerable<MetricRows>> inputs, int chunkRows)
    {
        var cursors = new List<Cursor>();
        var chunk = new MetricRows(chunkRows);
        try
        {
            foreach (var input in inputs)
            {
                var cursor = new Cursor(input.GetEnumerator());
                if (cursor.Advance()) cursors.Add(cursor);
                else cursor.Dispose();
            }
            while (cursors.Count > 0)
            {
                var min = 0;
                for (var i = 1; i < cursors.Count; i++)
                    if (cursors[i].CompareHead(cursors[min]) < 0) min = i;
                Cursor? next = null;
                for (var i = 0; i < cursors.Count; i++)
                    if (i != min && (next is null || cursors[i].CompareHead(next) < 0)) next = cursors[i];
                var c = cursors[min];
                var n = next is null ? c.Batch.Count - c.Position : Math.Max(1, c.CountBefore(next.HeadId, next.HeadTs));
                n = Math.Min(n, chunkRows - chunk.Count);
                chunk.AddRange(c.Batch, c.Position, n);
                c.Position += n;
                if (c.Position == c.Batch.Count && !c.Advance())
                {
                    c.Dispose();
                    cursors.RemoveAt(min);
                }
                if (chunk.Count < chunkRows) continue;
                yield return chunk;
                chunk.Clear();
            }
            if (chunk.Count > 0) yield return chunk;
        }
        finally
        {
            foreach (var cursor in cursors) cursor.Dispose();
        }
    }

    private sealed class Cursor(IEnumerator<MetricRows> batches) : IDisposable
    {
        public MetricRows Batch { get; private set; } = null!;
        public int Position { get; set; }
        public string HeadId => Batch.SensorIds[Position];
        public long HeadTs => Batch.TsMicros[Position];

        public bool Advance()
        {
            while (batches.MoveNext())
            {
                Batch = batches.Current;
                Position = 0;
                if (Batch.Count > 0) return true;
            }
            return false;
        }

        public int CompareHead(Cursor other) => MetricRows.CompareKeys(HeadId, HeadTs, other.HeadId, other.HeadTs);

        /// <summary>How many rows from the head on sort before (<paramref name="id"/>, <paramref name="ts"/>), a sensor block at a time.</summary>
        public int CountBefore(string id, long ts)
        {
            var ids = Batch.SensorIds;
            var times = Batch.TsMicros;
            var j = Position;
            while (j < ids.Length)
            {
                var current = ids[j];
                var order = Utf8Order.Instance.Compare(current, id);
                if (order > 0) break;
                var end = j + 1;
                while (end < ids.Length && string.Equals(ids[end], current, StringComparison.Ordinal)) end++;
                if (order < 0)
                {
                    j = end;
                    continue;
                }
                while (j < end && times[j] < ts) j++;
                break;
            }
            return j - Position;
        }

        public void Dispose() => batches.Dispose();
    }
}
