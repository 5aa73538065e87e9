using AkkaLake.Core.Source;

namespace AkkaLake.Core.Replication;

/// <summary>The upper bound of the next incremental batch, and why it is where it is.</summary>
public sealed record CursorBound(DateTimeOffset Through, CursorLimit LimitedBy);

public enum CursorLimit
{
    /// <summary>now - lag.</summary>
    Lag,
    /// <summary>Just before the start of the oldest open transaction.</summary>
    OpenTransaction,
    /// <summary>A prepared transaction exists; its start is unknown, so the watermark holds.</summary>
    PreparedTransaction,
}

public static class CursorBounds
{
    /// <summary>
    /// The batch covers (watermark, Through]. Through is now - lag, capped strictly before the oldest
    /// open transaction's start, and held at the watermark while a prepared transaction exists
    /// (its rows may be stamped with any earlier start time). Never below the watermark.
    /// </summary>
    public static CursorBound Compute(DatabaseClock clock, TimeSpan lag, DateTimeOffset watermark)
    {
        var bound = new CursorBound(Timestamps.TruncateToMicros(clock.Now - lag), CursorLimit.Lag);
        if (clock.OldestOpenTransactionStart is { } open)
        {
            var beforeOpen = Timestamps.FromMicros(Timestamps.ToMicros(open) - 1);
            if (beforeOpen < bound.Through) bound = new CursorBound(beforeOpen, CursorLimit.OpenTransaction);
        }
        if (clock.PreparedTransactions.Count > 0)
            bound = new CursorBound(watermark, CursorLimit.PreparedTransaction);
        return bound.Through < watermark ? bound with { Through = watermark } : bound;
    }
}
