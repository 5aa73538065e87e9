using System.Collections.Immutable;
using System.Diagnostics;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Demo;
using AkkaLake.Testing;
using DuckDB.NET.Data;

namespace AkkaLake.Benchmarks;

/// <param name="ReferenceMs">The same rows, partitions and listing, written by DuckDB's own partitioned COPY.</param>
internal sealed record ReadResult(string Name, int Files, double ControllerMs, double ReferenceMs, double SortedMs, double FloorMs)
{
    /// <summary>The goal of issue 13: 1.5 x one sorted file, or the listing's floor plus 1.2 x the sorted file.</summary>
    public double BoundMs => Math.Max(1.5 * SortedMs, FloorMs + 1.2 * SortedMs);
}

/// <summary>
/// The controller's read shapes (shared/CONTEXT.md), timed four ways: the lake as the controller
/// lists and queries it (its listing rule, its SQL, two threads); the same rows written by
/// DuckDB's own <c>COPY … PARTITION_BY (date, shard)</c> with one thread (one sorted file per
/// shard-day, DuckDB's row groups and encodings), listed and queried the same way; one sorted file
/// of the same rows; and the floor the listing sets (the lake's files' footers alone).
/// </summary>
internal sealed class ControllerReads : IDisposable
{
    private readonly DuckDBConnection _connection = new("Data Source=:memory:");
    private readonly LakeSettings _settings;
    private readonly string _sortedFile;
    private readonly ControllerReader _reference;
    private readonly int _runs;
    private readonly List<(string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy)> _shapes;

    /// <summary>
    /// The controller's reads of today while the daemon keeps it current, against DuckDB's own
    /// files of today's rows as committed now: one sensor since midnight, ten sensors' hourly
    /// buckets since midnight, all sensors over the last hour, every sensor's average since midnight.
    /// </summary>
    public static ControllerReads Today(LakeSettings settings, LakeManifest manifest, string work, DateTimeOffset now, int sensors, int runs)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var key = LakeLayout.DateKey(today);
        var todayOnly = manifest with
        {
            Datasets = manifest.Datasets.SetItem(LakeLayout.Dataset, manifest.Metrics with { Partitions = manifest.Metrics.Partitions.Where(p => p.Key == key).ToImmutableSortedDictionary() }),
        };
        // The daemon keeps changing today: DuckDB's files are made from a copy of the files committed now.
        var snapshot = settings with { HotPath = Path.Combine(work, "today"), ColdPath = null };
        foreach (var file in todayOnly.Files())
        {
            var path = settings.Roots.Resolve(file.Location, file.RelativePath);
            var copy = LakeLayout.Resolve(snapshot.HotPath, file.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            // A commit since the snapshot may have renamed it; its superseded name holds the same rows for the grace period.
            File.Copy(File.Exists(path) ? path : LakeLayout.SupersededPath(path), copy, overwrite: true);
        }
        var midnight = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        string[] all = [.. Enumerable.Range(0, sensors).Select(SampleReadings.SensorId)];
        return new ControllerReads(settings, snapshot, todayOnly, work, runs,
        [
            ("points_1_sensor_today", [SampleReadings.SensorId(42)], midnight, now, true, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
            ("hourly_buckets_10_sensors_today", [.. Enumerable.Range(100, 10).Select(SampleReadings.SensorId)], midnight, now, true,
                "sensor_id, CAST(floor(epoch(ts) / 3600) * 3600 AS BIGINT) AS bucket, avg(value)", "GROUP BY sensor_id, bucket ORDER BY sensor_id, bucket"),
            ("all_sensors_last_hour", all, now.AddHours(-1), now, false, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
            ("averages_all_sensors_today", all, midnight, now, false, "sensor_id, avg(value)", "GROUP BY sensor_id ORDER BY sensor_id"),
        ]);
    }

    public ControllerReads(LakeSettings settings, LakeManifest manifest, string work, DateTimeOffset end, double days, int sensors, int runs)
        : this(settings, settings, manifest, work, runs, Shapes(end, days, sensors))
    {
    }

    private static List<(string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy)> Shapes(DateTimeOffset end, double days, int sensors)
    {
        string[] all = [.. Enumerable.Range(0, sensors).Select(SampleReadings.SensorId)];
        return
        [
            ($"points_1_sensor_{Math.Min(90, Math.Ceiling(days))}_days", [SampleReadings.SensorId(42)], end.AddDays(-Math.Min(90, days)), end, true, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
            ($"hourly_buckets_10_sensors_{Math.Min(30, Math.Ceiling(days))}_days", [.. Enumerable.Range(100, 10).Select(SampleReadings.SensorId)], end.AddDays(-Math.Min(30, days)), end, true,
                "sensor_id, CAST(floor(epoch(ts) / 3600) * 3600 AS BIGINT) AS bucket, avg(value)", "GROUP BY sensor_id, bucket ORDER BY sensor_id, bucket"),
            ("all_sensors_one_hour", all, end.AddHours(-3), end.AddHours(-2), false, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
            ($"daily_averages_all_sensors_{Math.Min(7, Math.Ceiling(days))}_days", all, end.AddDays(-Math.Min(7, days)), end, false,
                "sensor_id, CAST(floor(epoch(ts) / 86400) * 86400 AS BIGINT) AS day, avg(value)", "GROUP BY sensor_id, day ORDER BY sensor_id, day"),
        ];
    }

    /// <param name="copyOf">Where the rows DuckDB's own files are made of lie: the lake itself, or a copy of the files the manifest commits.</param>
    private ControllerReads(LakeSettings settings, LakeSettings copyOf, LakeManifest manifest, string work, int runs,
        List<(string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy)> shapes)
    {
        _settings = settings;
        _runs = runs;
        _connection.Open();
        Directory.CreateDirectory(work);
        _sortedFile = Path.Combine(work, "sorted.parquet");
        var referenceRoot = Path.Combine(work, "duckdb-reference");
        Exec(DuckDbView.CreateStatement(manifest, copyOf));
        Exec("PRAGMA threads=1");
        if (!File.Exists(_sortedFile))
            Exec($"COPY (SELECT sensor_id, ts, value, quality, samples, source FROM metrics ORDER BY sensor_id, ts) TO '{_sortedFile}' (FORMAT parquet, COMPRESSION zstd)");
        if (!Directory.Exists(referenceRoot))
        {
            Directory.CreateDirectory(Path.Combine(referenceRoot, "metrics"));
            Exec($"COPY (SELECT sensor_id, ts, value, quality, samples, source, date, shard FROM metrics ORDER BY date, shard, sensor_id, ts) " +
                $"TO '{Path.Combine(referenceRoot, LakeLayout.Dataset)}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date, shard))");
        }
        Exec("PRAGMA threads=2");
        ReferenceBytes = Directory.EnumerateFiles(referenceRoot, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        // No manifest there: the controller falls back to listing the directories.
        _reference = new ControllerReader(referenceRoot, null, settings.Shards, "UTC");

        _shapes = shapes;
    }

    public long ReferenceBytes { get; }

    /// <summary>The lake against DuckDB's own files, one sorted file and the footers alone.</summary>
    public List<ReadResult> Run()
    {
        var lake = new ControllerReader(_settings.HotPath, _settings.ColdPath, _settings.Shards, "UTC");
        var results = new List<ReadResult>();
        foreach (var q in _shapes)
        {
            var files = lake.ListFiles(q.Sensors, q.From, q.To);
            var (ours, theirs) = Alternated(q, lake);
            // The sorted file gets every help: DuckDB does not prune row groups on an IN list of several values, but does on a range.
            var range = q.FilterSensors ? $" AND sensor_id BETWEEN '{q.Sensors.Min(StringComparer.Ordinal)}' AND '{q.Sensors.Max(StringComparer.Ordinal)}'" : "";
            var sorted = Time($"SELECT {q.Select} FROM read_parquet('{_sortedFile}') WHERE {Where(q)}{range} {q.GroupBy}");
            var floor = Measure.Median([.. Enumerable.Range(0, Math.Max(_runs, 5) + 1)
                .Select(_ => ListedAndRun(() => $"SELECT count(*) FROM parquet_metadata([{Files(lake.ListFiles(q.Sensors, q.From, q.To))}])")).Skip(1)]);
            results.Add(new ReadResult(q.Name, files.Count, ours, theirs, sorted, floor));
        }
        return results;
    }

    /// <summary>A copy of the lake under <paramref name="root"/> (written another way) against DuckDB's own files, shape by shape.</summary>
    public List<(string Name, double Ms, double ReferenceMs)> Compare(string root)
    {
        var variant = new ControllerReader(root, null, _settings.Shards, "UTC");
        return [.. _shapes.Select(q =>
        {
            var (ms, reference) = Alternated(q, variant);
            return (q.Name, ms, reference);
        })];
    }

    /// <summary>
    /// Medians of a reader's files and DuckDB's, run by run in turns (each pair in alternating
    /// order, after a warm-up of both), so a slower moment of this machine weighs on both alike:
    /// ratios near 1.0 moved 0.1-0.2 x between runs when each side was timed in a block of five.
    /// </summary>
    private (double Ms, double ReferenceMs) Alternated((string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy) q, ControllerReader reader)
    {
        string Controller(IReadOnlyList<string> files) =>
            $"SELECT {q.Select} FROM read_parquet([{Files(files)}], hive_partitioning=1, union_by_name=1) WHERE {Where(q)} {q.GroupBy}";
        // Listed for every run, as the controller lists for every request: a daemon at work renames files between runs.
        double Ours() => ListedAndRun(() => Controller(reader.ListFiles(q.Sensors, q.From, q.To)));
        var theirs = Controller(_reference.ListFiles(q.Sensors, q.From, q.To));
        Ours();
        RunOnce(theirs);
        var a = new List<double>();
        var b = new List<double>();
        for (var turn = 0; turn < 3 * Math.Max(_runs, 5); turn++)
        {
            if (turn % 2 == 0)
            {
                a.Add(Ours());
                b.Add(RunOnce(theirs));
            }
            else
            {
                b.Add(RunOnce(theirs));
                a.Add(Ours());
            }
        }
        return (Measure.Median(a), Measure.Median(b));
    }

    /// <summary>Reads that failed because a file was renamed between the listing and DuckDB's open of it (each was listed and run again).</summary>
    public int RacedListings { get; private set; }

    private double ListedAndRun(Func<string> listedQuery)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return RunOnce(listedQuery());
            }
            catch (DuckDBException) when (attempt < 5)
            {
                RacedListings++;
            }
        }
    }

    private static string Where((string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy) q) =>
        (q.FilterSensors ? $"sensor_id IN ({string.Join(", ", q.Sensors.Select(i => $"'{i}'"))}) AND " : "") +
        $"ts >= '{Timestamps.Format(q.From)}'::TIMESTAMP AND ts <= '{Timestamps.Format(q.To)}'::TIMESTAMP";

    private static string Files(IEnumerable<string> files) => string.Join(", ", files.Select(f => $"'{f}'"));

    /// <summary>The median of five runs or more, after one to warm up.</summary>
    private double Time(string sql)
    {
        RunOnce(sql);
        return Measure.Median([.. Enumerable.Range(0, Math.Max(_runs, 5)).Select(_ => RunOnce(sql))]);
    }

    private double RunOnce(string sql)
    {
        var clock = Stopwatch.StartNew();
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var rows = command.ExecuteReader();
        while (rows.Read()) { }
        return clock.Elapsed.TotalMilliseconds;
    }

    private void Exec(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}
