using System.Globalization;
using Akka.Configuration;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Configuration;

/// <summary>
/// Turns raw setting values (from HOCON, environment and flags, already layered) into
/// <see cref="LakeSettings"/>. Every problem is reported at once, naming the setting and its
/// environment variable, so an operator can fix the whole configuration in one go.
/// </summary>
public static class LakeSettingsParser
{
    /// <param name="HasFlag">The command line takes it as <c>--key</c>.</param>
    public sealed record Setting(string Key, string? EnvironmentVariable, bool HasFlag = false)
    {
        public string Path => "akkalake." + Key;
    }

    /// <summary>
    /// The one source of defaults: <c>hocon/akkalake.conf</c>, embedded. A configuration file falls
    /// back to it (<c>WithFallback</c>), so an operator's file need only name what it changes.
    /// </summary>
    public static Config Defaults { get; } = ConfigurationFactory.FromResource<Setting>("AkkaLake.Core.Configuration.akkalake.conf");

    public static readonly Setting DataRoot = new("data-root", "CORE_DATA_ROOT", HasFlag: true);
    public static readonly Setting HotPath = new("hot-path", "CORE_ANALYSIS_LAKE_HOT_PATH", HasFlag: true);
    public static readonly Setting ColdPath = new("cold-path", "CORE_ANALYSIS_LAKE_COLD_PATH", HasFlag: true);
    public static readonly Setting TmpPath = new("tmp-path", "CORE_ANALYSIS_TMP_PATH", HasFlag: true);
    public static readonly Setting Shards = new("shards", "CORE_ANALYSIS_LAKE_SHARDS", HasFlag: true);
    public static readonly Setting HotRetentionDays = new("hot-retention-days", "CORE_ANALYSIS_HOT_RETENTION_DAYS");
    public static readonly Setting LateWindowHours = new("late-window-hours", "CORE_ANALYSIS_LATE_WINDOW_HOURS");
    public static readonly Setting ReplicationIntervalSeconds = new("replication-interval-seconds", "CORE_ANALYSIS_REPLICATION_INTERVAL_SECONDS");
    public static readonly Setting ReplicationLagSeconds = new("replication-lag-seconds", "CORE_ANALYSIS_REPLICATION_LAG_SECONDS");
    public static readonly Setting DeleteGraceSeconds = new("delete-grace-seconds", "CORE_ANALYSIS_DELETE_GRACE_SECONDS");
    public static readonly Setting HotMaxBytes = new("hot-max-bytes", "CORE_ANALYSIS_HOT_MAX_BYTES");
    public static readonly Setting DatabaseUrl = new("database-url", "CORE_DATABASE_URL", HasFlag: true);
    public static readonly Setting MetricsPort = new("metrics-port", "AKKALAKE_METRICS_PORT", HasFlag: true);
    public static readonly Setting ReconcileIntervalSeconds = new("reconcile-interval-seconds", null);
    public static readonly Setting ReconcileRecentIntervalSeconds = new("reconcile-recent-interval-seconds", null);
    public static readonly Setting StallAfterSeconds = new("stall-after-seconds", null);
    public static readonly Setting HoldCorrectionsSeconds = new("hold-corrections-seconds", null);
    public static readonly Setting MaxBufferedRows = new("max-buffered-rows", null);
    public static readonly Setting RowGroupRows = new("row-group-rows", null);
    public static readonly Setting FirstBackfillRead = new("first-backfill-read", null);
    public static readonly Setting BackfillStreams = new("backfill-streams", null);

    public static IReadOnlyList<Setting> All { get; } =
    [
        DataRoot, HotPath, ColdPath, TmpPath, Shards, HotRetentionDays, LateWindowHours,
        ReplicationIntervalSeconds, ReplicationLagSeconds, DeleteGraceSeconds, HotMaxBytes,
        DatabaseUrl, MetricsPort, ReconcileIntervalSeconds, ReconcileRecentIntervalSeconds, StallAfterSeconds, HoldCorrectionsSeconds, MaxBufferedRows, RowGroupRows, FirstBackfillRead, BackfillStreams,
    ];

    /// <summary>
    /// Heap a buffered row takes with its share of a spill's sort (measured about 60 bytes). The
    /// row budget may take half the heap: the rest is the read-ahead, merges, compaction and the
    /// runtime. Past it a backfill runs out of memory at once and retries for ever (8M rows in a
    /// 256 MB heap did).
    /// </summary>
    public const int BufferedRowBytes = 64;

    /// <param name="values">Setting key to raw value; a missing, null or empty value means "use the default".</param>
    public static LakeSettings Parse(IReadOnlyDictionary<string, string?> values) =>
        Parse(values, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <param name="values">Setting key to raw value; a missing, null or empty value means "use the default".</param>
    /// <param name="heapBytes">What the GC heap may grow to (the daemon's runtimeconfig holds it to 256 MB).</param>
    public static LakeSettings Parse(IReadOnlyDictionary<string, string?> values, long heapBytes)
    {
        var problems = new List<string>();
        var reader = new Reader(values, problems);

        var dataRoot = reader.AbsolutePath(DataRoot) ?? DefaultOf(DataRoot)!;
        var settings = new LakeSettings
        {
            DataRoot = dataRoot,
            HotPath = reader.AbsolutePath(HotPath) ?? Path.Combine(dataRoot, "storage", "analysis", "lake", "hot"),
            ColdPath = reader.AbsolutePath(ColdPath),
            TmpPath = reader.AbsolutePath(TmpPath) ?? Path.Combine(dataRoot, "storage", "analysis", "tmp"),
            Shards = reader.Integer(Shards, 1, 100),
            HotRetentionDays = reader.Integer(HotRetentionDays, 1, 36_500),
            LateWindowHours = reader.Integer(LateWindowHours, 1, 87_600),
            ReplicationInterval = TimeSpan.FromSeconds(reader.Integer(ReplicationIntervalSeconds, 10, 3600)),
            ReplicationLag = TimeSpan.FromSeconds(reader.Integer(ReplicationLagSeconds, 0, 3600)),
            DeleteGrace = TimeSpan.FromSeconds(reader.Integer(DeleteGraceSeconds, 0, 86_400)),
            HotMaxBytes = reader.OptionalLong(HotMaxBytes, 1),
            MetricsPort = reader.Text(MetricsPort) is null ? null : reader.Integer(MetricsPort, 1, 65_535),
            ReconcileInterval = TimeSpan.FromSeconds(reader.Integer(ReconcileIntervalSeconds, 0, 30 * 86_400)),
            ReconcileRecentInterval = TimeSpan.FromSeconds(reader.Integer(ReconcileRecentIntervalSeconds, 1, 86_400)),
            StallAfter = TimeSpan.FromSeconds(reader.Integer(StallAfterSeconds, 1, 3_600)),
            HoldCorrections = TimeSpan.FromSeconds(reader.Integer(HoldCorrectionsSeconds, 0, 3_600)),
            DatabaseUrl = reader.Text(DatabaseUrl),
            MaxBufferedRows = reader.Integer(MaxBufferedRows, 10_000, 100_000_000),
            RowGroupRows = reader.Integer(RowGroupRows, 1_000, 10_000_000),
            FirstBackfillRead = reader.OneOf(FirstBackfillRead, BackfillRead.Auto, ("auto", BackfillRead.Auto), ("by-day", BackfillRead.ByDay), ("one-pass", BackfillRead.OnePass)),
            BackfillStreams = reader.Text(BackfillStreams) is null ? LakeSettings.DefaultBackfillStreams : reader.Integer(BackfillStreams, 1, 32),
        };

        if (settings.ColdPath is { } cold && IsSameOrInside(cold, settings.HotPath))
            problems.Add($"{Describe(ColdPath)} must not be inside the hot path ({settings.HotPath}); got \"{cold}\".");
        if (settings.ColdPath is { } cold2 && IsSameOrInside(settings.HotPath, cold2))
            problems.Add($"{Describe(HotPath)} must not be inside the cold path ({cold2}); got \"{settings.HotPath}\".");

        var maxRows = heapBytes / 2 / BufferedRowBytes;
        if (settings.MaxBufferedRows > maxRows)
            problems.Add($"{Describe(MaxBufferedRows)} = {settings.MaxBufferedRows} needs about {(long)settings.MaxBufferedRows * BufferedRowBytes >> 20} MB of heap, " +
                $"more than half of the {heapBytes >> 20} MB the heap may grow to; use at most {maxRows}, or raise the limit with DOTNET_GCHeapHardLimit.");

        if (problems.Count > 0)
            throw new SettingsException(problems);
        return settings;
    }

    /// <summary>The embedded default; null where it is empty (a path derived from the data root, or no value).</summary>
    public static string? DefaultOf(Setting s) => Defaults.GetString(s.Path) is { Length: > 0 } v ? v : null;

    /// <summary>Every name the setting goes by: flag, environment variable, HOCON key.</summary>
    public static string Describe(Setting s) =>
        string.Join(" / ", new[] { s.HasFlag ? "--" + s.Key : null, s.EnvironmentVariable, s.Path }.OfType<string>());

    /// <summary>Compares real paths: a cold path that is a symlink to the hot one would otherwise pass.</summary>
    private static bool IsSameOrInside(string path, string root)
    {
        var p = RealPath.Of(path) + Path.DirectorySeparatorChar;
        var r = RealPath.Of(root) + Path.DirectorySeparatorChar;
        return p.StartsWith(r, StringComparison.Ordinal);
    }

    private sealed class Reader(IReadOnlyDictionary<string, string?> values, List<string> problems)
    {
        public string? Text(Setting s) =>
            values.TryGetValue(s.Key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : DefaultOf(s);

        public string? AbsolutePath(Setting s)
        {
            var v = Text(s);
            if (v is null) return null;
            if (!Path.IsPathFullyQualified(v))
            {
                problems.Add($"{Describe(s)} must be an absolute path; got \"{v}\".");
                return null;
            }
            if (File.Exists(v))
            {
                problems.Add($"{Describe(s)} must be a directory; \"{v}\" is a file.");
                return null;
            }
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(v));
        }

        /// <summary>A whole number in [min, max]; a problem otherwise (the value returned then is never used).</summary>
        public int Integer(Setting s, int min, int max)
        {
            var v = Text(s) ?? throw new InvalidOperationException($"{s.Key} has no default.");
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                problems.Add($"{Describe(s)} must be a whole number from {min} to {max}; got \"{v}\".");
                return min;
            }
            if (n < min || n > max)
            {
                problems.Add($"{Describe(s)} must be from {min} to {max}; got {n}.");
                return min;
            }
            return n;
        }

        public T OneOf<T>(Setting s, T fallback, params (string Name, T Value)[] choices)
        {
            var v = Text(s);
            foreach (var (name, value) in choices)
                if (string.Equals(v, name, StringComparison.Ordinal)) return value;
            problems.Add($"{Describe(s)} must be one of {string.Join(", ", choices.Select(c => c.Name))}; got \"{v}\".");
            return fallback;
        }

        public long? OptionalLong(Setting s, long min)
        {
            var v = Text(s);
            if (v is null) return null;
            if (!long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min)
            {
                problems.Add($"{Describe(s)} must be a whole number of at least {min}; got \"{v}\".");
                return null;
            }
            return n;
        }
    }
}
