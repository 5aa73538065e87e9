using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Merging;

/// <summary>One sorted input of a merge: its rows in batches, and the data version they carry (for "newest wins" among equal keys).</summary>
public sealed record MergeInput(IEnumerable<MetricRows> Batches, long Version = 0);

/// <summary>What a merge read and dropped, counted as it runs.</summary>
public sealed class MergeTally
{
    public long RowsIn { get; internal set; }

    /// <summary>Rows dropped because an input of a newer version held the same key.</summary>
    public long Superseded { get; internal set; }
}

/// <summary>
/// The one k-way merge of sorted inputs (spilled runs and rows in memory into a shard-day's part,
/// committed parts into a compaction output) into one sorted stream of chunks. Rows move a block
/// at a time: the input with the smallest head gives every row that sorts before the next input's
/// head in one copy, so inputs holding different sensors (a table stored sensor by sensor) cost
/// about one comparison per sensor, not per row. Equal keys are all kept, or only the one of the
/// newest version. The one memory rule: the inputs' batches together hold at most
/// <see cref="InputRows"/> rows (<see cref="InputBatchRows"/>), plus the chunk.
/// </summary>
public static class SortedMerge
{
    public const int InputRows = 131_072;

    /// <summary>The batch each of <paramref name="inputs"/> inputs is read in, so that together they hold at most <see cref="InputRows"/>.</summary>
    public static int InputBatchRows(int inputs) => Math.Clamp(InputRows / Math.Max(1, inputs), 1_024, 65_536);

    /// <summary>The merged rows in chunks of at most <paramref name="chunkRows"/>; a chunk is reused, valid until the next is asked for.</summary>
    /// <param name="newestOnly">Of rows with equal keys keep only the one of the newest version (a compaction); else keep all.</param>
    public static IEnumerable<MetricRows> Merge(IReadOnlyList<MergeInput> inputs, int chunkRows, bool newestOnly = false, MergeTally? tally = null)
    {
        tally ??= new MergeTally();
        var cursors = new List<Cursor>();
        var chunk = new MetricRows(chunkRows);
        try
        {
            foreach (var input in inputs)
            {
                var cursor = new Cursor(input.Batches.GetEnumerator(), input.Version);
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
                var (lastId, lastTs) = (c.Batch.SensorIds[c.Position + n - 1], c.Batch.TsMicros[c.Position + n - 1]);
                chunk.AddRange(c.Batch, c.Position, n);
                tally.RowsIn += n;
                c.Position += n;
                // Heads of the other inputs never sort before the rows copied; an equal one is an older version of the last.
                if (newestOnly)
                    for (var i = 0; i < cursors.Count; i++)
                        if (i != min && cursors[i].Position < cursors[i].Batch.Count && cursors[i].HeadEquals(lastId, lastTs))
                        {
                            cursors[i].Position++;
                            tally.RowsIn++;
                            tally.Superseded++;
                        }
                for (var i = cursors.Count - 1; i >= 0; i--)
                {
                    if (cursors[i].Position < cursors[i].Batch.Count || cursors[i].Advance()) continue;
                    cursors[i].Dispose();
                    cursors.RemoveAt(i);
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

    private sealed class Cursor(IEnumerator<MetricRows> batches, long version) : IDisposable
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

        /// <summary>By key, and for equal keys the newest version first.</summary>
        public int CompareHead(Cursor other)
        {
            var c = MetricRows.CompareKeys(HeadId, HeadTs, other.HeadId, other.HeadTs);
            return c != 0 ? c : other.Version.CompareTo(Version);
        }

        private long Version => version;

        public bool HeadEquals(string id, long ts) => HeadTs == ts && string.Equals(HeadId, id, StringComparison.Ordinal);

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
