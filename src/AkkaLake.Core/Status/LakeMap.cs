using AkkaLake.Core.Compaction;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Status;

/// <summary>One shard-day as the status page draws it: its files against the count compaction leaves it with.</summary>
public sealed record MapCell(string Shard, int Files, int FinalFiles, long Rows, long Bytes);

/// <summary>
/// One retained day: where it lives, its shard-days, and what reconciliation last said of it
/// (<see cref="ReconcileMarks"/>; null when nothing was logged about it recently).
/// </summary>
public sealed record MapDay(string Date, string Location, string? Reconcile, IReadOnlyList<MapCell> Shards);

/// <summary>The lake drawn as a map: a row per retained day, newest first, a cell per shard.</summary>
public static class LakeMap
{
    public static IReadOnlyList<MapDay> Of(LakeManifest manifest, IReadOnlyDictionary<string, string> reconcileMarks, DateTimeOffset now, CompactionPolicy policy) =>
        [.. manifest.Metrics.Partitions.Reverse().Select(p =>
        {
            var date = Layout.LakeLayout.ParseDateKey(p.Key);
            return new MapDay(p.Key, p.Value.Location.ToString().ToLowerInvariant(), reconcileMarks.GetValueOrDefault(p.Key),
                [.. p.Value.Shards.Select(s => new MapCell(s.Key, s.Value.Files.Count,
                    CompactionBacklog.FinalCount(date, s.Key, p.Value.Location, s.Value, now, policy),
                    s.Value.Files.Sum(f => f.Rows), s.Value.Files.Sum(f => f.Bytes)))]);
        })];
}

/// <summary>What reconciliation said of a day, from its log lines in order: the last word wins.</summary>
public static class ReconcileMarks
{
    /// <summary>The day differed from PostgreSQL and a rebuild was asked for.</summary>
    public const string Differs = "differs";

    /// <summary>The day is being rebuilt from PostgreSQL because it differed.</summary>
    public const string Rebuilding = "rebuilding";

    /// <summary>The day differed and has been rebuilt.</summary>
    public const string Rebuilt = "rebuilt";

    /// <summary>The day was checked and agrees.</summary>
    public const string Agrees = "agrees";

    /// <summary>The mark after a log line of kind <paramref name="template"/> about the day, given the mark before it; null when the line changes nothing.</summary>
    public static string? After(string? before, string template) => template switch
    {
        _ when template.StartsWith("{Date} differs from PostgreSQL", StringComparison.Ordinal) => Differs,
        _ when template.StartsWith("Rebuilding {Date} from PostgreSQL", StringComparison.Ordinal) => Rebuilding,
        _ when template.StartsWith("Rebuilt {Date}", StringComparison.Ordinal) && before is Differs or Rebuilding => Rebuilt,
        // A day found different stays marked for the day the marks cover, rebuilt or not.
        _ when template.StartsWith("Checked {Date} against PostgreSQL", StringComparison.Ordinal) => before is null ? Agrees : null,
        _ => null,
    };
}
