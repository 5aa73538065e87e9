namespace AkkaLake.Core.Configuration;

/// <summary>Validated settings of one lake. Built only by <see cref="LakeSettingsParser"/>.</summary>
public sealed record LakeSettings
{
    public const string DefaultDataRoot = "/Users/Shared/FarmDashboard";

    public required string DataRoot { get; init; }
    public required string HotPath { get; init; }
    public string? ColdPath { get; init; }

    /// <summary>The cold path came from the lake's memory (<see cref="Layout.ColdPathMemory"/>), not from the configuration.</summary>
    public bool ColdPathRemembered { get; init; }
    public required string TmpPath { get; init; }
    public int Shards { get; init; } = 16;
    public int HotRetentionDays { get; init; } = 90;
    public int LateWindowHours { get; init; } = 48;
    public TimeSpan ReplicationInterval { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan ReplicationLag { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan DeleteGrace { get; init; } = TimeSpan.FromSeconds(300);
    public long? HotMaxBytes { get; init; }

    /// <summary>Loopback port serving Prometheus text at <c>/metrics</c>; none by default.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>How often the daemon checks each hot day against PostgreSQL; zero turns checking off.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromDays(1);

    /// <summary>How often today and yesterday, where late and corrected readings land, are checked.</summary>
    public TimeSpan ReconcileRecentInterval { get; init; } = TimeSpan.FromHours(1);
    public string? DatabaseUrl { get; init; }

    /// <summary>Rows buffered across all shard-day writers before the largest is flushed; bounds memory.</summary>
    public int MaxBufferedRows { get; init; } = 2_000_000;

    /// <summary>Rows per Parquet row group: large enough for scans, small enough to write in bounded memory.</summary>
    public int RowGroupRows { get; init; } = 1_000_000;

    public string StatePath => Path.Combine(HotPath, "_state");

    // Settings reach logs and exception messages (actor props): the database URL never with its password.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"DataRoot = {DataRoot}, HotPath = {HotPath}, ColdPath = {ColdPath}, TmpPath = {TmpPath}, Shards = {Shards}, HotRetentionDays = {HotRetentionDays}, " +
            $"LateWindowHours = {LateWindowHours}, ReplicationInterval = {ReplicationInterval}, ReplicationLag = {ReplicationLag}, DeleteGrace = {DeleteGrace}, " +
            $"HotMaxBytes = {HotMaxBytes}, MetricsPort = {MetricsPort}, ReconcileInterval = {ReconcileInterval}, ReconcileRecentInterval = {ReconcileRecentInterval}, DatabaseUrl = {Source.DatabaseUrl.Redacted(DatabaseUrl)}, MaxBufferedRows = {MaxBufferedRows}, RowGroupRows = {RowGroupRows}");
        return true;
    }
}
