namespace AkkaLake.Core.Configuration;

/// <summary>Validated settings of one lake. Built only by <see cref="LakeSettingsParser"/>, which applies the defaults.</summary>
public sealed record LakeSettings
{
    public required string DataRoot { get; init; }
    public required string HotPath { get; init; }
    public string? ColdPath { get; init; }

    /// <summary>The cold path came from the lake's memory (<see cref="Layout.ColdPathMemory"/>), not from the configuration.</summary>
    public bool ColdPathRemembered { get; init; }
    public required string TmpPath { get; init; }
    public required int Shards { get; init; }
    public required int HotRetentionDays { get; init; }
    public required int LateWindowHours { get; init; }
    public required TimeSpan ReplicationInterval { get; init; }
    public required TimeSpan ReplicationLag { get; init; }
    public required TimeSpan DeleteGrace { get; init; }
    public long? HotMaxBytes { get; init; }

    /// <summary>Loopback port serving Prometheus text at <c>/metrics</c>; none by default.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>How often the daemon checks each hot day against PostgreSQL; zero turns checking off.</summary>
    public required TimeSpan ReconcileInterval { get; init; }

    /// <summary>How often today and yesterday, where late and corrected readings land, are checked.</summary>
    public required TimeSpan ReconcileRecentInterval { get; init; }

    /// <summary>How long replication may make no progress (or keep failing) before the daemon reports it stuck, naming what it waits on.</summary>
    public required TimeSpan StallAfter { get; init; }

    /// <summary>
    /// How long the daemon may hold re-sent and late readings, to place them into the files holding
    /// them together instead of rewriting those files every tick (<see cref="Replication.CorrectionHold"/>); zero places them at once.
    /// </summary>
    public required TimeSpan HoldCorrections { get; init; }
    public string? DatabaseUrl { get; init; }

    /// <summary>Rows buffered across all shard-day writers before the largest is flushed; bounds memory.</summary>
    public required int MaxBufferedRows { get; init; }

    /// <summary>Rows per Parquet row group: large enough for scans, small enough to write in bounded memory.</summary>
    public required int RowGroupRows { get; init; }

    /// <summary>How a first backfill reads PostgreSQL (see <see cref="Source.BackfillPass"/>).</summary>
    public BackfillRead FirstBackfillRead { get; init; }

    /// <summary>
    /// COPY streams a first backfill read in one pass uses at once, each a connection reading pieces
    /// of the table under one snapshot; by default a quarter of the cores (1 to 4), leaving the rest
    /// to PostgreSQL, the writers and the controller.
    /// </summary>
    public int BackfillStreams { get; init; } = DefaultBackfillStreams;

    public static int DefaultBackfillStreams => Math.Clamp(Environment.ProcessorCount / 4, 1, 4);

    /// <summary>Where each setting's value came from (<c>--shards</c>, <c>CORE_ANALYSIS_LAKE_SHARDS</c>, a file, the default), by key, for messages about it.</summary>
    public IReadOnlyDictionary<string, string> Origins { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the value of the setting with this key came from; its environment variable when not known.</summary>
    public string OriginOf(LakeSettingsParser.Setting setting) =>
        Origins.TryGetValue(setting.Key, out var origin) ? origin : setting.EnvironmentVariable ?? setting.Path;

    public string StatePath => Path.Combine(HotPath, "_state");

    public Layout.LakeRoots Roots => new(HotPath, ColdPath);

    // Settings reach logs and exception messages (actor props): the database URL never with its password.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"DataRoot = {DataRoot}, HotPath = {HotPath}, ColdPath = {ColdPath}, TmpPath = {TmpPath}, Shards = {Shards}, HotRetentionDays = {HotRetentionDays}, " +
            $"LateWindowHours = {LateWindowHours}, ReplicationInterval = {ReplicationInterval}, ReplicationLag = {ReplicationLag}, DeleteGrace = {DeleteGrace}, " +
            $"HotMaxBytes = {HotMaxBytes}, MetricsPort = {MetricsPort}, ReconcileInterval = {ReconcileInterval}, ReconcileRecentInterval = {ReconcileRecentInterval}, StallAfter = {StallAfter}, HoldCorrections = {HoldCorrections}, DatabaseUrl = {Source.DatabaseUrl.Redacted(DatabaseUrl)}, MaxBufferedRows = {MaxBufferedRows}, RowGroupRows = {RowGroupRows}, FirstBackfillRead = {FirstBackfillRead}, BackfillStreams = {BackfillStreams}");
        return true;
    }
}

/// <summary>How a first backfill reads PostgreSQL: chosen from the table's indexes and estimates, a day at a time, or in one pass.</summary>
public enum BackfillRead
{
    Auto,
    ByDay,
    OnePass,
}
