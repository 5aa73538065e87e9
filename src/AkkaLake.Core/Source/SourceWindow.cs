using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Source;

/// <summary>Which rows one export selects.</summary>
public abstract record SourceWindow
{
    /// <summary>Incremental: inserted_at in (<see cref="After"/>, <see cref="Through"/>].</summary>
    public sealed record Inserted(DateTimeOffset After, DateTimeOffset Through) : SourceWindow;

    /// <summary>
    /// Backfill of one day by ts, rows with inserted_at &lt;= <see cref="Cursor"/> or NULL. The newest
    /// day is open-ended upwards so rows stamped in the future are not missed.
    /// </summary>
    public sealed record BackfillDay(DateOnly Day, bool OpenEnded, DateTimeOffset Cursor) : SourceWindow;

    public string Describe() => this switch
    {
        Inserted i => $"inserted_at in ({Timestamps.Format(i.After)}, {Timestamps.Format(i.Through)}]",
        BackfillDay b => $"ts on {LakeLayout.DateKey(b.Day)}{(b.OpenEnded ? " and later" : "")}, inserted_at <= {Timestamps.Format(b.Cursor)} or null",
        _ => GetType().Name,
    };
}
