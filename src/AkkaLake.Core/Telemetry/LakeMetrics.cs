using System.Diagnostics.Metrics;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Telemetry;

/// <summary>
/// The daemon's metrics, on the <c>AkkaLake</c> meter (OpenTelemetry names and units): read live
/// with <c>dotnet-counters monitor -n akkalake --counters AkkaLake</c>, exported over OTLP or as
/// Prometheus text when asked. Instruments cost nothing while nobody listens.
/// </summary>
public static class LakeMetrics
{
    public const string MeterName = "AkkaLake";

    private static readonly Meter Meter = new(MeterName, typeof(LakeMetrics).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> RowsReplicated = Meter.CreateCounter<long>("akkalake.replication.rows", "{row}", "Rows committed by replication, backfills and rebuilds.");
    public static readonly Counter<long> BytesReplicated = Meter.CreateCounter<long>("akkalake.replication.bytes", "By", "Bytes of part files those commits published.");
    public static readonly Counter<long> Batches = Meter.CreateCounter<long>("akkalake.replication.batches", "{batch}", "Replication batches by outcome: committed, failed, replanned.");
    public static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("akkalake.replication.batch.duration", "s", "From the start of a batch to its commit.");
    public static readonly Counter<long> SkippedRows = Meter.CreateCounter<long>("akkalake.replication.skipped_rows", "{row}", "Source rows the lake cannot hold, by reason.");
    public static readonly Counter<long> CommitFailures = Meter.CreateCounter<long>("akkalake.commit.failures", "{commit}", "Commits the coordinator refused or could not write.");
    public static readonly Counter<long> CompactionRuns = Meter.CreateCounter<long>("akkalake.compaction.runs", "{run}", "Compactions committed.");
    public static readonly Counter<long> CompactionBytes = Meter.CreateCounter<long>("akkalake.compaction.rewritten_bytes", "By", "Bytes of files compaction wrote.");
    public static readonly Counter<long> RetentionChanges = Meter.CreateCounter<long>("akkalake.retention.partitions", "{partition}", "Partitions moved to cold or expired, by action.");
    public static readonly Counter<long> ReconciledDays = Meter.CreateCounter<long>("akkalake.reconcile.days", "{day}", "Days checked against PostgreSQL, by outcome: agree, differ, failed.");

    private static LakeManifest? _latest;
    private static double _mergeBytesPerSecond;

    static LakeMetrics()
    {
        Meter.CreateObservableGauge("akkalake.watermark.lag", () =>
            Volatile.Read(ref _latest)?.Metrics.ComputedThroughTs is { } w ? [new Measurement<double>(Math.Max(0, (DateTimeOffset.UtcNow - w).TotalSeconds))] : Array.Empty<Measurement<double>>(),
            "s", "How far the watermark is behind now.");
        Meter.CreateObservableGauge("akkalake.lake.files", () => PerLocation(p => p.FileCount), "{file}", "Committed files per location.");
        Meter.CreateObservableGauge("akkalake.lake.rows", () => PerLocation(p => p.Rows), "{row}", "Committed rows per location.");
        Meter.CreateObservableGauge("akkalake.lake.bytes", () => PerLocation(p => p.Bytes), "By", "Committed bytes per location.");
        Meter.CreateObservableGauge("akkalake.compaction.backlog.shard_days", () => Backlog(b => b.ShardDays), "{shard_day}",
            "Shard-days holding more files than their budget, which compaction will merge.");
        Meter.CreateObservableGauge("akkalake.compaction.backlog.files", () => Backlog(b => b.ExcessFiles), "{file}",
            "Files over the count compaction leaves the lake with.");
        Meter.CreateObservableGauge("akkalake.compaction.backlog.time_to_clear", () =>
            Backlog(b => b.TimeToClear(Volatile.Read(ref _mergeBytesPerSecond) is > 0 and var rate ? rate : null)?.TotalSeconds ?? double.NaN).Where(m => !double.IsNaN(m.Value)),
            "s", "Estimated time for compaction to catch up, at the rate of its recent merges.");
    }

    /// <summary>A merge's bytes read and time taken, folded into the rate the backlog's time to clear is estimated with.</summary>
    public static void MergeObserved(long bytesIn, TimeSpan took)
    {
        if (took <= TimeSpan.Zero) return;
        var rate = bytesIn / took.TotalSeconds;
        var before = Volatile.Read(ref _mergeBytesPerSecond);
        Volatile.Write(ref _mergeBytesPerSecond, before == 0 ? rate : 0.8 * before + 0.2 * rate);
    }

    private static IEnumerable<Measurement<T>> Backlog<T>(Func<CompactionBacklog, T> figure) where T : struct =>
        Volatile.Read(ref _latest) is not { } manifest
            ? []
            : [new Measurement<T>(figure(CompactionBacklog.Of(manifest, DateTimeOffset.UtcNow, CompactionPolicy.Default)))];

    /// <summary>The coordinator's latest manifest, as the health checks see it.</summary>
    public static LakeManifest? Latest => Volatile.Read(ref _latest);

    /// <summary>The coordinator's latest manifest, which the gauges read.</summary>
    public static void Publish(LakeManifest manifest) => Volatile.Write(ref _latest, manifest);

    private static IEnumerable<Measurement<long>> PerLocation(Func<PartitionState, long> figure) =>
        Volatile.Read(ref _latest) is not { } manifest
            ? []
            : manifest.Metrics.Partitions.Values.GroupBy(p => p.Location)
                .Select(g => new Measurement<long>(g.Sum(figure), new KeyValuePair<string, object?>("location", g.Key.Name)));

    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
