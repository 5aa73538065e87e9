using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Source;

/// <summary>Which rows one export selects.</summary>
public abstract record SourceWindow
{
    /// <summary>Incremental: inserted_at in (<see cref="After"/>, <see cref="Through"/>].</summary>
    public sealed record Inserted(DateTimeOffset After, DateTimeOffset Through) : SourceWindow;

    /// <summary>
    /// Backfill by ts of the days <see cref="From"/> through <see cref="Through"/> (one day, or the
    /// whole backfill read in one pass), rows with inserted_at &lt;= <see cref="Cursor"/> or NULL. The
    /// newest day is open-ended upwards so rows stamped in the future are not missed.
    /// </summary>
    public sealed record BackfillDays(DateOnly From, DateOnly Through, bool OpenEnded, DateTimeOffset Cursor) : SourceWindow
    {
        public static BackfillDays Day(DateOnly day, bool openEnded, DateTimeOffset cursor) => new(day, day, openEnded, cursor);

        public bool IsOneDay => From == Through;
    }

    public string Describe() => this switch
    {
        Inserted i => $"inserted_at in ({Timestamps.Format(i.After)}, {Timestamps.Format(i.Through)}]",
        BackfillDays b => $"ts on {LakeLayout.DateKey(b.From)}{(b.IsOneDay ? "" : $" through {LakeLayout.DateKey(b.Through)}")}{(b.OpenEnded ? " and later" : "")}, inserted_at <= {Timestamps.Format(b.Cursor)} or null",
        _ => GetType().Name,
    };
}
