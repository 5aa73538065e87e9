using AkkaLake.Demo;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Replication;
using AkkaLake.Benchmarks;
using AkkaLake.Core;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using DuckDB.NET.Data;
using Npgsql;
using NpgsqlTypes;

// dotnet run -c Release --project tests/AkkaLake.Benchmarks -- [--rows 10000000 | --days N] [--sensors 500] [--cadence 30] [--runs 3] [--database-url URL] [--out FILE]
var options = Options.Parse(args);
var results = new Dictionary<string, object>();
var work = Directory.CreateTempSubdirectory("akkalake-bench-").FullName;
Console.WriteLine($"AkkaLake benchmark: {options.Rows:N0} readings ({options.Sensors} sensors every {options.Cadence} s), {options.Runs} runs each, work dir {work}");

LocalPostgresServer? server = null;
var database = options.DatabaseUrl ?? (server = LocalPostgresServer.Start()).ConnectionString;
try
{
    // Loading and scanning millions of rows takes longer than Npgsql's default 30 s command timeout.
    await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(database)) { CommandTimeout = 0 }.ConnectionString);

    // 1. Readings in the controller's schema.
    var end = DateTimeOffset.UtcNow.AddHours(-1);
    var steps = options.Rows / options.Sensors;
    var start = end.AddSeconds(-steps * options.Cadence);
    var generate = await Measure.SecondsAsync(async () =>
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using (var drop = new NpgsqlCommand("DROP TABLE IF EXISTS metrics; DROP TABLE IF EXISTS sensors;", c)) await drop.ExecuteNonQueryAsync();
        await SampleReadings.CreateSchemaAsync(c);
        // The load is not measured: skip the per-row foreign-key check (superuser only; the readings' sensors are inserted first).
        await using (var fast = new NpgsqlCommand("SET session_replication_role = replica", c)) await fast.ExecuteNonQueryAsync();
        await SampleReadings.InsertAsync(c, options.Sensors, TimeSpan.FromSeconds(options.Cadence), start, end, insertDelay: TimeSpan.FromSeconds(2));
        await using var analyze = new NpgsqlCommand("VACUUM ANALYZE metrics", c);
        await analyze.ExecuteNonQueryAsync();
    });
    var rows = (long)steps * options.Sensors;
    Console.WriteLine($"generated {rows:N0} rows over {(end - start).TotalDays:0.0} days in {generate:0.0} s");
    results["rows"] = rows;

    // 2. The source's own limit: a binary COPY of the same rows, every field read, nothing written.
    const string everything = "COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, samples::int4, source::text, inserted_at FROM metrics) TO STDOUT (FORMAT BINARY)";
    var limitRuns = new List<double>();
    for (var r = 0; r < options.Runs; r++)
        limitRuns.Add(rows / await Measure.SecondsAsync(() => CopyEverythingAsync(dataSource, [everything])));
    var limit = Measure.Median(limitRuns);
    results["source_limit_rows_per_s"] = limit;
    Console.WriteLine($"source limit (binary COPY, all fields read): {limit:N0} rows/s");

    // 2b. The same rows through the backfill's own queries: one COPY per day, which PostgreSQL
    // answers from the ts index, more slowly per row than the sequential scan above.
    var table = new SourceTable(SourceTable.DefaultName, HasSamples: true, HasSource: true);
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    var dayQueries = new List<string>();
    for (var d = today; d >= DateOnly.FromDateTime(start.UtcDateTime); d = d.AddDays(-1))
        dayQueries.Add(MetricsSource.BuildCopySql(table, SourceWindow.BackfillDays.Day(d, d == today, DateTimeOffset.UtcNow)));
    var dayLimitRuns = new List<double>();
    for (var r = 0; r < options.Runs; r++)
        dayLimitRuns.Add(rows / await Measure.SecondsAsync(() => CopyEverythingAsync(dataSource, dayQueries)));
    var dayLimit = Measure.Median(dayLimitRuns);
    results["source_limit_per_day_rows_per_s"] = dayLimit;
    Console.WriteLine($"source limit through the backfill's per-day queries: {dayLimit:N0} rows/s");

    // 3. The real backfill through the actor pipeline, as its own process, into an empty lake.
    var conf = Path.Combine(work, "bench.conf");
    File.WriteAllText(conf, "akkalake { replication-lag-seconds = 0\nhot-retention-days = 90 }");
    var exe = Path.Combine(AppContext.BaseDirectory, "akkalake.dll");
    var backfills = new List<(double Seconds, long Rss)>();
    string lakeRoot = "";
    for (var r = 0; r < options.Runs; r++)
    {
        lakeRoot = Path.Combine(work, $"lake-{r}");
        var run = Measure.Process("dotnet", [exe, "run", "--once", "--config", conf, "--data-root", lakeRoot, "--database-url", database]);
        if (run.ExitCode != 0) throw new InvalidOperationException("backfill failed: " + run.Output);
        backfills.Add((run.Seconds, run.PeakRssBytes));
    }
    // 3b. The same backfill where the source has no index on ts (a plain PostgreSQL install of the
    // controller's schema): days are read per sensor over the primary key.
    await using (var c = await dataSource.OpenConnectionAsync())
    await using (var drop = new NpgsqlCommand("DROP INDEX metrics_ts_idx", c))
        await drop.ExecuteNonQueryAsync();
    double noIndexDayLimit, noIndexRate;
    long noIndexRss;
    await using (var c = await dataSource.OpenConnectionAsync())
    {
        var scan = await DayScan.ChooseAsync(c, table, CancellationToken.None);
        var perSensorQueries = new List<string>();
        for (var d = today; d >= DateOnly.FromDateTime(start.UtcDateTime); d = d.AddDays(-1))
            perSensorQueries.Add(MetricsSource.BuildCopySql(table, SourceWindow.BackfillDays.Day(d, d == today, DateTimeOffset.UtcNow), scan));
        noIndexDayLimit = rows / await Measure.SecondsAsync(() => CopyEverythingAsync(dataSource, perSensorQueries, scan));
        var noIndexRun = Measure.Process("dotnet", [exe, "run", "--once", "--config", conf, "--data-root", Path.Combine(work, "lake-no-ts-index"), "--database-url", database]);
        if (noIndexRun.ExitCode != 0) throw new InvalidOperationException("backfill without the ts index failed: " + noIndexRun.Output);
        (noIndexRate, noIndexRss) = (rows / noIndexRun.Seconds, noIndexRun.PeakRssBytes);
    }
    results["backfill_no_ts_index_rows_per_s"] = noIndexRate;
    results["backfill_no_ts_index_ratio_to_limit"] = noIndexRate / limit;
    results["source_limit_per_day_no_ts_index_rows_per_s"] = noIndexDayLimit;
    results["backfill_no_ts_index_peak_rss_mb"] = noIndexRss / 1048576.0;
    Console.WriteLine($"backfill without metrics_ts_idx (read as the daemon chooses, its start line says how): {noIndexRate:N0} rows/s (x{noIndexRate / limit:0.00} of the limit; the per-sensor day queries alone {noIndexDayLimit:N0} rows/s), peak RSS {noIndexRss / 1048576.0:0} MB");
    await using (var c = await dataSource.OpenConnectionAsync())
    await using (var create = new NpgsqlCommand("CREATE INDEX metrics_ts_idx ON metrics(ts DESC)", c))
        await create.ExecuteNonQueryAsync();

    var settings = LakeSettingsParser.Parse(new Dictionary<string, string?> { ["data-root"] = lakeRoot, ["database-url"] = database, ["replication-lag-seconds"] = "0" });
    var manifest = new ManifestStore(settings.StatePath).Load()!;
    var backfillRate = rows / Measure.Median(backfills.Select(b => b.Seconds));
    results["backfill_rows_per_s"] = backfillRate;
    results["backfill_ratio_to_limit"] = backfillRate / limit;
    results["backfill_ratio_to_per_day_limit"] = backfillRate / dayLimit;
    results["backfill_peak_rss_mb"] = backfills.Max(b => b.Rss) / 1048576.0;
    results["backfill_files"] = manifest.Files().Count();
    results["backfill_bytes"] = manifest.Files().Sum(f => f.File.Bytes);
    Console.WriteLine($"backfill: {backfillRate:N0} rows/s (x{backfillRate / limit:0.00} of the limit, x{backfillRate / dayLimit:0.00} of the per-day limit; whole process incl. start-up), peak RSS {backfills.Max(b => b.Rss) / 1048576.0:0} MB, {manifest.Files().Count()} files, {LakeReportText.Bytes(manifest.Files().Sum(f => f.File.Bytes))}");

    // 4. Incremental: 60 s of readings at 2,000 sensors every 10 s, tick to commit.
    var latencies = (await IncrementalLatencyAsync(settings, dataSource, options.Runs)).Select(l => l.Seconds).ToList();
    results["incremental_commit_seconds"] = Measure.Median(latencies);
    Console.WriteLine($"incremental batch of 12,000 rows: committed {Measure.Median(latencies):0.000} s after the tick (median)");

    // 4b. The same with 1% of the tick's rows upserting readings the lake already holds: the
    // commit rewrites the files holding their old versions.
    foreach (var (name, daysBack) in new[] { ("earlier_today", 0), ("two_days_ago", 2) })
    {
        var upserts = await IncrementalLatencyAsync(settings, dataSource, options.Runs, upsertDaysBack: daysBack);
        var seconds = Measure.Median(upserts.Select(u => u.Seconds));
        var rewritten = Measure.Median(upserts.Select(u => (double)u.RewrittenBytes));
        var parts = Measure.Median(upserts.Select(u => (double)u.PartBytes));
        results[$"incremental_upserts_{name}_commit_seconds"] = seconds;
        results[$"incremental_upserts_{name}_rewritten_bytes"] = rewritten;
        results[$"incremental_upserts_{name}_part_bytes"] = parts;
        Console.WriteLine($"incremental batch with 120 upserts of readings from {name.Replace('_', ' ')}: committed {seconds:0.000} s after the tick, {LakeReportText.Bytes((long)rewritten)} of files rewritten beside {LakeReportText.Bytes((long)parts)} of new parts (medians)");
    }

    // 4c. Reconciliation: one pass over every day (PostgreSQL's per-sensor checksums against the
    // lake's), then incremental batches while passes keep running, as the daemon's schedule would.
    var reconciler = new Reconciler(dataSource, new LakeRoots(settings.HotPath, null));
    var snapshot = new ManifestStore(settings.StatePath).Load()!;
    var checkDays = snapshot.Metrics.Partitions.Where(p => p.Value.Rows > 0).Select(p => LakeLayout.ParseDateKey(p.Key)).ToList();
    var passClock = Stopwatch.StartNew();
    long checkedRows = 0;
    foreach (var d in checkDays) checkedRows += (await reconciler.CheckAsync(snapshot, d, CancellationToken.None)).SourceRows;
    var passSeconds = passClock.Elapsed.TotalSeconds;
    results["reconcile_pass_seconds"] = passSeconds;
    results["reconcile_rows_per_s"] = checkedRows / passSeconds;
    Console.WriteLine($"reconciliation: one pass over {checkDays.Count} days ({checkedRows:N0} rows) in {passSeconds:0.0} s, {checkedRows / passSeconds:N0} rows/s; " +
        $"a 90-day lake of 2,000 sensors every 10 s (1.56B rows) would take {1_555_200_000 / (checkedRows / passSeconds) / 3600:0.0} h of one PostgreSQL scan a day");
    using (var stopPasses = new CancellationTokenSource())
    {
        var passes = Task.Run(async () =>
        {
            while (!stopPasses.IsCancellationRequested)
                foreach (var d in checkDays)
                    if (!stopPasses.IsCancellationRequested) await reconciler.CheckAsync(snapshot, d, CancellationToken.None);
        });
        var during = (await IncrementalLatencyAsync(settings, dataSource, options.Runs)).Select(l => l.Seconds).ToList();
        await stopPasses.CancelAsync();
        await passes;
        results["incremental_commit_seconds_during_reconcile"] = Measure.Median(during);
        Console.WriteLine($"incremental batch of 12,000 rows while reconciliation passes run: committed {Measure.Median(during):0.000} s after the tick (median; {Measure.Median(latencies):0.000} s without)");
    }


    var day = SimulatedDay(Path.Combine(work, "day"), ticks: 1440, sensors: 125, cadenceSeconds: 10);
    results["day_rows_rewritten_per_row"] = day.RowsRewrittenPerRow;
    results["day_write_amplification"] = day.WriteAmplification;
    results["day_bytes_written_per_byte_at_rest"] = day.WrittenPerRestByte;
    results["day_max_files"] = day.MaxFiles;
    results["day_files_at_rest"] = day.AtRest;
    Console.WriteLine($"simulated day (1,440 ticks x 750 rows, one shard-day): write amplification {day.WriteAmplification:0.00} (bytes written by parts and compaction / bytes of the parts), "
        + $"{day.WrittenPerRestByte:0.00} per byte at rest, each row rewritten {day.RowsRewrittenPerRow:0.00} times by compaction; at most {day.MaxFiles} files, {day.AtRest} at rest");

    // 6. The controller's reads of the lake against one perfectly sorted file of the same rows.
    manifest = new ManifestStore(settings.StatePath).Load()!;
    foreach (var read in ControllerReads(settings, manifest, Path.Combine(work, "sorted.parquet"), end, (end - start).TotalDays, options.Sensors, options.Runs))
    {
        results[$"read_{read.Name}_controller_ms"] = read.ControllerMs;
        results[$"read_{read.Name}_view_ms"] = read.ViewMs;
        results[$"read_{read.Name}_sorted_ms"] = read.SortedMs;
        results[$"read_{read.Name}_floor_ms"] = read.FloorMs;
        Console.WriteLine($"read {read.Name,-40} {read.Files,5} files: as the controller {read.ControllerMs,7:0.0} ms ({read.ControllerMs / read.SortedMs:0.00} x), committed view {read.ViewMs,7:0.0} ms, " +
            $"one sorted file {read.SortedMs,7:0.0} ms, footers alone {read.FloorMs,6:0.0} ms; bound {read.BoundMs:0.0} ms {(read.ControllerMs <= read.BoundMs ? "met" : "MISSED")}");
    }

    var outFile = options.Out ?? Path.Combine(work, "results.json");
    File.WriteAllText(outFile, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"results written to {outFile}");
}
finally
{
    server?.Dispose();
}

static async Task CopyEverythingAsync(NpgsqlDataSource dataSource, IEnumerable<string> copies, DayScan? scan = null)
{
    await using var c = await dataSource.OpenConnectionAsync();
    long sink = 0;
    foreach (var copy in copies)
    {
        // The plan the daemon pins for a day's read, so the two are timed alike.
        await using var transaction = scan?.BeginRead(c);
        await using var reader = await c.BeginBinaryExportAsync(copy);
        while (await reader.StartRowAsync() != -1)
        {
            sink += reader.Read<string>(NpgsqlDbType.Text).Length;
            sink += reader.Read<long>(NpgsqlDbType.TimestampTz);
            sink += (long)reader.Read<double>(NpgsqlDbType.Double);
            if (reader.IsNull) reader.Skip(); else sink += reader.Read<int>(NpgsqlDbType.Integer);
            if (reader.IsNull) reader.Skip(); else sink += reader.Read<int>(NpgsqlDbType.Integer);
            if (reader.IsNull) reader.Skip(); else sink += reader.Read<string>(NpgsqlDbType.Text).Length;
            if (reader.IsNull) reader.Skip(); else sink += reader.Read<long>(NpgsqlDbType.TimestampTz);
        }
    }
    GC.KeepAlive(sink);
}

// The replication actor also reports each backfilled day; a cycle ends with CycleCompleted.
static ReplicationProtocol.CycleCompleted NextCycle(Inbox inbox)
{
    while (true)
        if (inbox.Receive(TimeSpan.FromMinutes(5)) is ReplicationProtocol.CycleCompleted done)
            return done;
}

static async Task<List<(double Seconds, long RewrittenBytes, long PartBytes)>> IncrementalLatencyAsync(LakeSettings settings, NpgsqlDataSource dataSource, int runs, int? upsertDaysBack = null)
{
    using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
    var inbox = Inbox.Create(system);
    var coordinator = system.ActorOf(LakeCoordinator.Props(settings, inbox.Receiver));
    inbox.Receive(TimeSpan.FromSeconds(60));
    var replication = system.ActorOf(ReplicationActor.Props(settings, coordinator, inbox.Receiver, new ReplicationJob.Once()));
    NextCycle(inbox);
    var latencies = new List<(double, long, long)>();
    var before = new ManifestStore(settings.StatePath).Load()!;
    for (var r = 0; r < runs; r++)
    {
        var now = DateTimeOffset.UtcNow;
        await using (var c = await dataSource.OpenConnectionAsync())
        {
            await SampleReadings.InsertAsync(c, 2000, TimeSpan.FromSeconds(10), now.AddSeconds(-60), now, firstSensor: 5000);
            if (upsertDaysBack is { } back)
            {
                // 120 readings (1% of the tick) of that UTC day, at least 10 minutes old, get a new value.
                await using var upsert = new NpgsqlCommand($"""
                    UPDATE metrics SET value = value + 1, inserted_at = NULL WHERE (sensor_id, ts) IN (
                      SELECT sensor_id, ts FROM metrics
                      WHERE ts >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '{back} days'
                        AND ts < date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '{back - 1} days'
                        AND ts < now() - interval '10 minutes' AND sensor_id < 'sensor-5000'
                      ORDER BY random() LIMIT 120)
                    """, c);
                await upsert.ExecuteNonQueryAsync();
            }
            await using var stamp = new NpgsqlCommand("UPDATE metrics SET inserted_at = clock_timestamp() WHERE inserted_at IS NULL", c);
            await stamp.ExecuteNonQueryAsync();
        }
        var clock = Stopwatch.StartNew();
        inbox.Send(replication, ReplicationProtocol.Tick.Instance);
        var done = NextCycle(inbox);
        if (!done.Succeeded) throw new InvalidOperationException(done.Error);
        var seconds = clock.Elapsed.TotalSeconds;
        // The batch's own files: its parts, and the rewritten copies that carry its run id.
        var known = before.Files().Select(f => f.RelativePath).ToHashSet();
        var added = done.Manifest!.Files().Where(f => !known.Contains(f.RelativePath)).ToList();
        var run = added.FirstOrDefault(f => f.File.Name.StartsWith("part-", StringComparison.Ordinal))?.File.RunId;
        latencies.Add((seconds,
            added.Where(f => f.File.RunId == run && f.File.Name.StartsWith("compact-", StringComparison.Ordinal)).Sum(f => f.File.Bytes),
            added.Where(f => f.File.RunId == run && f.File.Name.StartsWith("part-", StringComparison.Ordinal)).Sum(f => f.File.Bytes)));
        before = done.Manifest;
        await using (var c = await dataSource.OpenConnectionAsync())
        await using (var cleanup = new NpgsqlCommand("DELETE FROM metrics WHERE sensor_id >= 'sensor-5000'", c))
            await cleanup.ExecuteNonQueryAsync();
    }
    system.Terminate().Wait();
    return latencies;
}

static SimulatedDayResult SimulatedDay(string root, int ticks, int sensors, int cadenceSeconds)
{
    var roots = new LakeRoots(Path.Combine(root, "hot"), null);
    var store = new ManifestStore(Path.Combine(roots.Hot, "_state"));
    var committer = new LakeCommitter(store, roots);
    var merger = new PartMerger(roots);
    var now = DateTimeOffset.UtcNow;
    var today = DateOnly.FromDateTime(now.UtcDateTime);
    var midnight = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    var manifest = LakeManifest.Create(1, now);
    store.Save(manifest);
    long partBytes = 0, compactionBytes = 0, rowsIn = 0, rowsRewritten = 0;
    var maxFiles = 0;
    void Compact(DateOnly asOf)
    {
        while (CompactionPlanner.Plan(manifest, asOf, CompactionPolicy.Default).FirstOrDefault() is { } job)
        {
            var merged = merger.Merge(job, RunId.New(now), CompactionPolicy.Default.TargetFileBytes);
            compactionBytes += merged.Outputs.Sum(o => o.Written.Bytes);
            rowsRewritten += merged.RowsOut;
            manifest = committer.Commit(manifest, new LakeCommit(CommitKind.Compaction, "C", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, 0, f.Name))]), merged.Outputs, now, TimeSpan.Zero);
        }
    }
    for (var t = 0; t < ticks; t++)
    {
        var rows = new MetricRows();
        for (var at = midnight.AddMinutes(t); at < midnight.AddMinutes(t + 1); at = at.AddSeconds(cadenceSeconds))
            for (var s = 0; s < sensors; s++)
                rows.Add(SampleReadings.SensorId(s), Timestamps.ToMicros(at), SampleReadings.ValueAt(s, at), 0, 1, "lora");
        rows.Sort();
        rowsIn += rows.Count;
        var run = $"R{t:D5}";
        var meta = new PartMetadata(run, CommitKind.Replication, now, now);
        var name = LakeLayout.FileName(PartKind.Incremental, run, 0);
        var part = new StagedPart(today, 0, LakeLocation.Hot, name, PartWriter.Write(roots.Resolve(LakeLocation.Hot, LakeLayout.FilePath(today, 0, name)) + ".tmp", rows, meta, 1_000_000), meta);
        partBytes += part.Written.Bytes;
        manifest = committer.Commit(manifest, new LakeCommit(CommitKind.Replication, run, [], []), [part], now, TimeSpan.Zero);
        Compact(today);
        maxFiles = Math.Max(maxFiles, manifest.Files().Count());
    }
    Compact(today.AddDays(1));
    var restBytes = (double)manifest.Files().Sum(f => f.File.Bytes);
    return new SimulatedDayResult((double)(partBytes + compactionBytes) / partBytes, (partBytes + compactionBytes) / restBytes, (double)rowsRewritten / rowsIn, maxFiles, manifest.Files().Count());
}

/// <summary>
/// The controller's read shapes (shared/CONTEXT.md), timed four ways: the lake as the controller
/// lists and queries it (its listing rule, its SQL, two threads), the committed view with date
/// and shard filters, one sorted file of the same rows, and the floor the listing sets (the same
/// files' footers alone).
/// </summary>
static List<ReadResult> ControllerReads(LakeSettings settings, LakeManifest manifest, string sortedFile, DateTimeOffset end, double days, int sensors, int runs)
{
    using var connection = new DuckDBConnection("Data Source=:memory:");
    connection.Open();
    void Exec(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
    Exec("PRAGMA threads=2");
    Exec(DuckDbView.CreateStatement(manifest, settings));
    Exec($"COPY (SELECT sensor_id, ts, value, quality, samples, source FROM metrics ORDER BY sensor_id, ts) TO '{sortedFile}' (FORMAT parquet, COMPRESSION zstd)");
    var reader = new ControllerReader(settings.HotPath, settings.ColdPath, settings.Shards, "UTC");
    string Ts(DateTimeOffset t) => $"'{Timestamps.Format(t)}'::TIMESTAMP";
    string In(IEnumerable<string> ids) => string.Join(", ", ids.Select(i => $"'{i}'"));
    string Files(IEnumerable<string> files) => string.Join(", ", files.Select(f => $"'{f}'"));
    string Shards(IEnumerable<string> ids) => string.Join(", ", ids.Select(i => $"'{LakeLayout.ShardKey(ShardHasher.Shard(i, settings.Shards))}'").Distinct());
    string[] all = [.. Enumerable.Range(0, sensors).Select(SampleReadings.SensorId)];

    var shapes = new List<(string Name, string[] Sensors, DateTimeOffset From, DateTimeOffset To, bool FilterSensors, string Select, string GroupBy)>
    {
        ($"points_1_sensor_{Math.Min(90, Math.Ceiling(days))}_days", [SampleReadings.SensorId(42)], end.AddDays(-Math.Min(90, days)), end, true, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
        ($"hourly_buckets_10_sensors_{Math.Min(30, Math.Ceiling(days))}_days", [.. Enumerable.Range(100, 10).Select(SampleReadings.SensorId)], end.AddDays(-Math.Min(30, days)), end, true,
            "sensor_id, CAST(floor(epoch(ts) / 3600) * 3600 AS BIGINT) AS bucket, avg(value)", "GROUP BY sensor_id, bucket ORDER BY sensor_id, bucket"),
        ("all_sensors_one_hour", all, end.AddHours(-3), end.AddHours(-2), false, "sensor_id, ts, value, quality", "ORDER BY sensor_id, ts"),
        ($"daily_averages_all_sensors_{Math.Min(7, Math.Ceiling(days))}_days", all, end.AddDays(-Math.Min(7, days)), end, false,
            "sensor_id, CAST(floor(epoch(ts) / 86400) * 86400 AS BIGINT) AS day, avg(value)", "GROUP BY sensor_id, day ORDER BY sensor_id, day"),
    };
    double Time(string sql)
    {
        var times = new List<double>();
        for (var r = 0; r < Math.Max(runs, 5) + 1; r++)
        {
            var clock = Stopwatch.StartNew();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var rows = command.ExecuteReader();
            while (rows.Read()) { }
            if (r > 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Measure.Median(times);
    }
    var results = new List<ReadResult>();
    foreach (var q in shapes)
    {
        var where = (q.FilterSensors ? $"sensor_id IN ({In(q.Sensors)}) AND " : "") + $"ts >= {Ts(q.From)} AND ts <= {Ts(q.To)}";
        var files = reader.ListFiles(q.Sensors, q.From, q.To);
        var controller = Time($"SELECT {q.Select} FROM read_parquet([{Files(files)}], hive_partitioning=1, union_by_name=1) WHERE {where} {q.GroupBy}");
        var dates = $"date BETWEEN CAST({Ts(q.From)} AS DATE) AND CAST({Ts(q.To)} AS DATE)";
        var view = Time($"SELECT {q.Select} FROM metrics WHERE {where} AND {dates}{(q.FilterSensors ? $" AND shard IN ({Shards(q.Sensors)})" : "")} {q.GroupBy}");
        // The sorted file gets every help: DuckDB does not prune row groups on an IN list of several values, but does on a range.
        var range = q.FilterSensors ? $" AND sensor_id BETWEEN '{q.Sensors.Min(StringComparer.Ordinal)}' AND '{q.Sensors.Max(StringComparer.Ordinal)}'" : "";
        var sorted = Time($"SELECT {q.Select} FROM read_parquet('{sortedFile}') WHERE {where}{range} {q.GroupBy}");
        var floor = Time($"SELECT count(*) FROM parquet_metadata([{Files(files)}])");
        results.Add(new ReadResult(q.Name, files.Count, controller, view, sorted, floor));
    }
    return results;
}

internal sealed record ReadResult(string Name, int Files, double ControllerMs, double ViewMs, double SortedMs, double FloorMs)
{
    /// <summary>The issue's bound: 1.5 x one sorted file, or the listing's floor plus 1.2 x the sorted file.</summary>
    public double BoundMs => Math.Max(1.5 * SortedMs, FloorMs + 1.2 * SortedMs);
}

/// <summary>Write amplification as LSM stores count it: all bytes written over the bytes ingested (here, the parts each tick wrote).</summary>
internal sealed record SimulatedDayResult(double WriteAmplification, double WrittenPerRestByte, double RowsRewrittenPerRow, int MaxFiles, int AtRest);

/// <param name="Rows">Readings to generate; <c>--days N</c> sets it to N days of every sensor at the cadence.</param>
internal sealed record Options(long Rows, int Sensors, int Cadence, int Runs, string? DatabaseUrl, string? Out)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var sensors = int.Parse(Value("--sensors") ?? "500", CultureInfo.InvariantCulture);
        var cadence = int.Parse(Value("--cadence") ?? "30", CultureInfo.InvariantCulture);
        var rows = Value("--days") is { } days
            ? (long)(double.Parse(days, CultureInfo.InvariantCulture) * 86_400 / cadence) * sensors
            : long.Parse(Value("--rows") ?? "10000000", CultureInfo.InvariantCulture);
        return new Options(
            rows,
            sensors,
            cadence,
            int.Parse(Value("--runs") ?? "3", CultureInfo.InvariantCulture),
            Value("--database-url"),
            Value("--out"));
    }
}
