using System.Globalization;
using System.Text;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Inspection;

/// <summary>The human-readable form of a <see cref="LakeReport"/>.</summary>
public static class LakeReportText
{
    private static string ColdPath(LakeReport report)
    {
        if (report.ColdPath is { } cold)
            return report.ColdPathRemembered ? $"{cold} (remembered by the lake; not configured)" : cold;
        var coldPartitions = report.Datasets.Values.Sum(d => d.Partitions.Values.Count(p => p.Location == LakeLocation.Cold));
        return coldPartitions == 0
            ? "(none: hot-only deployment)"
            : $"NOT CONFIGURED, yet {coldPartitions} partitions are cold: set --cold-path / CORE_ANALYSIS_LAKE_COLD_PATH to the NAS they were moved to";
    }

    public static string Render(LakeReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"hot path:  {report.HotPath}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"cold path: {ColdPath(report)}");
        if (!report.LakeExists)
        {
            sb.AppendLine("No lake here yet: there is no _state/manifest.json under the hot path.");
            return sb.ToString();
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"shards:    {report.Shards}    commits: {report.CommitSeq}");
        var budget = report.HotMaxBytes is { } max ? $" of {Bytes(max)} budget" : "";
        sb.AppendLine(CultureInfo.InvariantCulture, $"hot usage: {Bytes(report.HotBytes)}{budget}");

        foreach (var (name, dataset) in report.Datasets)
        {
            sb.AppendLine();
            var watermark = dataset.ComputedThroughTs is { } w ? Timestamps.Format(w) : "(none yet)";
            sb.AppendLine(CultureInfo.InvariantCulture, $"dataset {name}: computed through {watermark}, {dataset.Partitions.Count} partitions");
            if (dataset.Takeover is { } t)
                sb.AppendLine(t.CompletedAt is { } done
                    ? FormattableString.Invariant($"  took over the first implementation's lake: {t.DaysTotal} days rebuilt, completed {Timestamps.Format(done)}")
                    : FormattableString.Invariant($"  TAKEOVER IN PROGRESS of the first implementation's lake: {t.DaysTotal - t.DaysLeft.Count} of {t.DaysTotal} days rebuilt (next: {t.DaysLeft.Max}), started {Timestamps.Format(t.StartedAt)}"));
            if (dataset.Partitions.Count == 0) continue;
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {"date",-10}  {"location",-8}  {"shards",6}  {"files",6}  {"rows",12}  {"bytes",10}  {"max files/shard",15}  last compacted");
            foreach (var (date, p) in dataset.Partitions)
            {
                var maxFiles = p.Shards.Count == 0 ? 0 : p.Shards.Values.Max(s => s.ParquetFiles);
                var compacted = p.LastCompactedAt is { } c ? Timestamps.Format(c) : "never";
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {date,-10}  {p.Location,-8}  {p.Shards.Count,6}  {p.FileCount,6}  {p.Rows,12:N0}  {Bytes(p.TotalBytes),10}  {maxFiles,15}  {compacted}");
            }
        }

        foreach (var (name, dataset) in report.Datasets.Where(d => d.Value.ExpiredPartitions.Count > 0))
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"  expired (left the hot-only lake; PostgreSQL keeps them): {string.Join(", ", dataset.ExpiredPartitions.Keys)}");

        if (report.PendingDeletions.Count > 0)
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"pending deletions: {report.PendingDeletions.Count} files, kept for running readers until {Timestamps.Format(report.PendingDeletions.Max(d => d.DueAt))}");

        var r = report.Replication;
        sb.AppendLine();
        if (r is null)
        {
            sb.AppendLine("replication: no run recorded yet");
        }
        else
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"replication: last run {Ts(r.LastRunAt)} status {r.LastRunStatus ?? "-"}, {r.LastRunRowCount ?? 0:N0} rows in {r.LastRunDurationMs ?? 0} ms, backlog {r.LastRunBacklogSeconds ?? 0:0.#} s");
            if (r.LastRunError is { } error) sb.AppendLine(CultureInfo.InvariantCulture, $"  last error: {error}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"  last inserted_at seen: {Ts(r.LastInsertedAt)}; backfill {Ts(r.BackfillFromTs)} .. {Ts(r.BackfillToTs)}, completed {Ts(r.BackfillCompletedAt)}");
        }
        return sb.ToString();
    }

    private static string Ts(DateTimeOffset? t) => t is { } v ? Timestamps.Format(v) : "-";

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.0} {units[u]}");
    }
}
