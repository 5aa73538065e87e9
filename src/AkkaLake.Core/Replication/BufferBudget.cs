namespace AkkaLake.Core.Replication;

/// <summary>
/// Rows a batch holds in its shard-day writers' buffers against the row budget. Past the budget
/// the largest buffers are written out until half of it is free, and the COPY waits until they are.
/// </summary>
public sealed class BufferBudget(long maxRows)
{
    private readonly Dictionary<ShardDay, long> _buffered = [];

    public long Total { get; private set; }

    public bool Exceeded => Total > maxRows;

    public void Added(ShardDay shardDay, long rows)
    {
        _buffered[shardDay] = _buffered.GetValueOrDefault(shardDay) + rows;
        Total += rows;
    }

    public void Spilled(ShardDay shardDay, long rows)
    {
        _buffered[shardDay] -= rows;
        Total -= rows;
    }

    /// <summary>The shard-days to spill, largest first, until what stays buffered is at most half the budget.</summary>
    public IReadOnlyList<ShardDay> ToSpill()
    {
        var projected = Total;
        var spill = new List<ShardDay>();
        foreach (var (shardDay, rows) in _buffered.OrderByDescending(kv => kv.Value))
        {
            if (projected <= maxRows / 2 || rows == 0) break;
            spill.Add(shardDay);
            projected -= rows;
        }
        return spill;
    }
}
