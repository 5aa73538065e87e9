namespace AkkaLake.Core.Replication;

/// <summary>
/// Rows a batch holds in its shard-day writers' buffers against the row budget. Past three
/// quarters of it buffers are written out; the COPY goes on meanwhile and waits only past the
/// whole budget (rows being written still count). What goes: every buffer of a day older than the
/// newest day read (rows come in about the order they were inserted, so those days are complete
/// and each is written whole), then, until three eighths of the budget are left, the buffers the
/// longest without new rows, the largest first among those fed as recently.
/// </summary>
public sealed class BufferBudget(long maxRows)
{
    private readonly Dictionary<ShardDay, (long Rows, long LastChunk)> _buffered = [];
    private long _chunks;
    private DateOnly _newestDay;

    public long Total { get; private set; }

    /// <summary>The COPY must wait for spills to finish.</summary>
    public bool Exceeded => Total > maxRows;

    public bool SpillDue => Total > maxRows * 3 / 4;

    /// <summary>One chunk's rows, by the shard-day they went to.</summary>
    public void Added(IEnumerable<(ShardDay ShardDay, long Rows)> chunk)
    {
        _chunks++;
        foreach (var (shardDay, rows) in chunk)
        {
            _buffered[shardDay] = (_buffered.GetValueOrDefault(shardDay).Rows + rows, _chunks);
            if (shardDay.Date > _newestDay) _newestDay = shardDay.Date;
            Total += rows;
        }
    }

    public void Spilled(ShardDay shardDay, long rows)
    {
        var (buffered, lastChunk) = _buffered[shardDay];
        _buffered[shardDay] = (buffered - rows, lastChunk);
        Total -= rows;
    }

    /// <summary>The shard-days to spill, in order.</summary>
    public IReadOnlyList<ShardDay> ToSpill()
    {
        var projected = Total;
        var spill = new List<ShardDay>();
        foreach (var (shardDay, (rows, _)) in _buffered.Where(kv => kv.Value.Rows > 0).OrderBy(kv => kv.Key.Date == _newestDay).ThenBy(kv => kv.Value.LastChunk).ThenByDescending(kv => kv.Value.Rows))
        {
            if (shardDay.Date == _newestDay && projected <= maxRows * 3 / 8) break;
            spill.Add(shardDay);
            projected -= rows;
        }
        return spill;
    }
}
