namespace AkkaLake.Core.Layout;

/// <summary>What wrote a part file; the file name's prefix says it to readers.</summary>
public enum PartKind
{
    Incremental,
    Backfill,
    Compaction,
}

public static class PartKindExtensions
{
    public static string Prefix(this PartKind kind) => kind switch
    {
        PartKind.Incremental => "part",
        PartKind.Backfill => "backfill",
        PartKind.Compaction => "compact",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
