using System.Globalization;

namespace AkkaLake.Core.Layout;

/// <summary>
/// Where things live inside a lake root (hot or cold):
/// <c>metrics/v1/date=YYYY-MM-DD/shard=NN/&lt;kind&gt;-&lt;run_id&gt;….parquet</c>.
/// Paths here are relative to a location root so the same file can live hot or cold.
/// </summary>
public static class LakeLayout
{
    public const string Dataset = "metrics/v1";
    public const string ParquetSuffix = ".parquet";

    /// <summary>
    /// A file a commit took out of the lake waits for its deletion under this suffix, so that
    /// readers listing <c>*.parquet</c> no longer see it while scans that opened it keep it.
    /// </summary>
    public const string SupersededSuffix = ".superseded";

    public static string SupersededPath(string relativePath) => relativePath + SupersededSuffix;

    public static string DateKey(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly ParseDateKey(string key) =>
        DateOnly.ParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The date a <c>YYYY-MM-DD</c> key names; null for anything else.</summary>
    public static DateOnly? TryParseDateKey(string key) =>
        DateOnly.TryParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    public static string ShardKey(int shard) => shard.ToString("00", CultureInfo.InvariantCulture);

    public static int ParseShardKey(string key) => int.Parse(key, NumberStyles.None, CultureInfo.InvariantCulture);

    public static string PartitionDirectory(DateOnly date) =>
        $"{Dataset}/date={DateKey(date)}";

    public static string ShardDirectory(DateOnly date, int shard) =>
        $"{PartitionDirectory(date)}/shard={ShardKey(shard)}";

    public static string FilePath(DateOnly date, int shard, string fileName) =>
        $"{ShardDirectory(date, shard)}/{fileName}";

    public static string FileName(PartKind kind, string runId, int sequence) =>
        $"{kind.Prefix()}-{runId}-{sequence:D4}{ParquetSuffix}";

    /// <summary>Absolute path of a lake-relative path under a location root.</summary>
    public static string Resolve(string root, string relativePath) =>
        Path.Combine(root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public static bool IsPartFileName(string fileName) =>
        fileName.EndsWith(ParquetSuffix, StringComparison.Ordinal) &&
        Enum.GetValues<PartKind>().Any(k => fileName.StartsWith(k.Prefix() + "-", StringComparison.Ordinal));

    /// <summary>The date of a directory named <c>date=YYYY-MM-DD</c>; null for anything else.</summary>
    public static DateOnly? ParseDateDirectory(string dateDirName) =>
        dateDirName.StartsWith("date=", StringComparison.Ordinal) ? TryParseDateKey(dateDirName[5..]) : null;

    /// <summary>Date and shard of a directory pair named by the layout; null for anything else.</summary>
    public static (DateOnly Date, int Shard)? ParseShardDirectory(string dateDirName, string shardDirName)
    {
        if (ParseDateDirectory(dateDirName) is not { } date || !shardDirName.StartsWith("shard=", StringComparison.Ordinal))
            return null;
        if (shardDirName.Length != 8 || !int.TryParse(shardDirName[6..], NumberStyles.None, CultureInfo.InvariantCulture, out var shard))
            return null;
        return (date, shard);
    }

    /// <summary>The UTC date a timestamp (in microseconds since the Unix epoch) falls on.</summary>
    public static DateOnly DateOf(long tsMicros)
    {
        var days = tsMicros / MicrosPerDay;
        if (tsMicros % MicrosPerDay < 0) days--;
        return DateOnly.FromDayNumber((int)days + UnixEpochDayNumber);
    }

    /// <summary>A date's first instant (UTC).</summary>
    public static DateTimeOffset DayStart(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>Microseconds since the Unix epoch of a date's first instant (UTC).</summary>
    public static long StartMicros(DateOnly date) => (date.DayNumber - UnixEpochDayNumber) * MicrosPerDay;

    public const long MicrosPerDay = 86_400_000_000L;
    private static readonly int UnixEpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;
}
