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
using DuckDB.NET.Data;
using Npgsql;
using NpgsqlTypes;

// dotnet run -c Release --project tests/AkkaLake.Benchmarks -- [--rows 10000000] [--sensors 500] [--cadence 30] [--runs 3] [--database-url URL] [--out FILE]
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
        dayQueries.Add(MetricsSource.BuildCopySql(table, new SourceWindow.BackfillDay(d, d == today, DateTimeOffset.UtcNow)));
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

    // 6. DuckDB over the committed lake against one perfectly sorted file of the same rows.
    manifest = new ManifestStore(settings.StatePath).Load()!;
    var queries = DuckDbQueries(settings, manifest, Path.Combine(work, "sorted.parquet"), end, options.Runs);
    foreach (var (name, lake, sorted) in queries)
    {
        results[$"query_{name}_lake_ms"] = lake;
        results[$"query_{name}_sorted_ms"] = sorted;
        Console.WriteLine($"query {name,-22} lake {lake,8:0.0} ms   one sorted file {sorted,8:0.0} ms   ratio {lake / sorted:0.00}");
    }

    var outFile = options.Out ?? Path.Combine(work, "results.json");
    File.WriteAllText(outFile, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"results written to {outFile}");
}
finally
{
    server?.Dispose();
}

static async Task CopyEverythingAsync(NpgsqlDataSource dataSource, IEnumerable<string> copies)
{
    await using var c = await dataSource.OpenConnectionAsync();
    long sink = 0;
    foreach (var copy in copies)
    {
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

static async Task<List<(double Seconds, long RewrittenBytes, long PartBytes)>> IncrementalLatencyAsync(LakeSettings settings, NpgsqlDataSource dataSource, int runs, int? upsertDaysBack = null)
{
    using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
    var inbox = Inbox.Create(system);
    var coordinator = system.ActorOf(LakeCoordinator.Props(settings, inbox.Receiver));
    inbox.Receive(TimeSpan.FromSeconds(60));
    var replication = system.ActorOf(ReplicationActor.Props(settings, coordinator, inbox.Receiver, new ReplicationJob.Once()));
    inbox.Receive(TimeSpan.FromMinutes(5));
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
        inbox.Send(replication, ReplicationActor.Tick.Instance);
        var done = (ReplicationActor.CycleCompleted)inbox.Receive(TimeSpan.FromMinutes(5));
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
            manifest = committer.Commit(manifest, new LakeCommit(LakeCommit.Compaction, "C", [], [.. job.Inputs.Select(f => new FileRemove(job.Date, 0, f.Name))]), merged.Outputs, now, TimeSpan.Zero);
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
        var meta = new PartMetadata(run, LakeCommit.Replication, now, now);
        var name = LakeLayout.FileName(PartKind.Incremental, run, 0);
        var part = new StagedPart(today, 0, Locations.Hot, name, PartWriter.Write(roots.Resolve(Locations.Hot, LakeLayout.FilePath(today, 0, name)) + ".tmp", rows, meta, 1_000_000), meta);
        partBytes += part.Written.Bytes;
        manifest = committer.Commit(manifest, new LakeCommit(LakeCommit.Replication, run, [], []), [part], now, TimeSpan.Zero);
        Compact(today);
        maxFiles = Math.Max(maxFiles, manifest.Files().Count());
    }
    Compact(today.AddDays(1));
    var restBytes = (double)manifest.Files().Sum(f => f.File.Bytes);
    return new SimulatedDayResult((double)(partBytes + compactionBytes) / partBytes, (partBytes + compactionBytes) / restBytes, (double)rowsRewritten / rowsIn, maxFiles, manifest.Files().Count());
}

static List<(string Name, double LakeMs, double SortedMs)> DuckDbQueries(LakeSettings settings, LakeManifest manifest, string sortedFile, DateTimeOffset end, int runs)
{
    using var connection = new DuckDBConnection("Data Source=:memory:");
    connection.Open();
    void Exec(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
    Exec(DuckDbView.CreateStatement(manifest, settings));
    Exec($"COPY (SELECT sensor_id, ts, value, quality, samples, source FROM metrics ORDER BY sensor_id, ts) TO '{sortedFile}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)");
    Exec($"CREATE VIEW sorted AS SELECT * FROM read_parquet('{sortedFile}')");
    var sensor = SampleReadings.SensorId(42);
    var shard = LakeLayout.ShardKey(ShardHasher.Shard(sensor, settings.Shards));
    var hour = Timestamps.Format(end.AddHours(-3));
    var week = Timestamps.Format(end.AddDays(-7));
    var queries = new (string Name, string Lake, string Sorted)[]
    {
        ("one_sensor_90_days", $"SELECT count(*), avg(value) FROM metrics WHERE shard = '{shard}' AND sensor_id = '{sensor}'",
            $"SELECT count(*), avg(value) FROM sorted WHERE sensor_id = '{sensor}'"),
        // ts is a plain TIMESTAMP holding UTC, compared with '…'::TIMESTAMP bounds as the controller does.
        ("all_sensors_one_hour", $"SELECT sensor_id, avg(value) FROM metrics WHERE ts >= '{hour}'::TIMESTAMP AND ts < '{hour}'::TIMESTAMP + INTERVAL 1 HOUR AND date = CAST('{hour}'::TIMESTAMP AS DATE) GROUP BY sensor_id",
            $"SELECT sensor_id, avg(value) FROM sorted WHERE ts >= '{hour}'::TIMESTAMP AND ts < '{hour}'::TIMESTAMP + INTERVAL 1 HOUR GROUP BY sensor_id"),
        ("daily_avg_week", $"SELECT sensor_id, date, avg(value) FROM metrics WHERE date >= CAST('{week}'::TIMESTAMP AS DATE) GROUP BY ALL",
            $"SELECT sensor_id, CAST(ts AS DATE), avg(value) FROM sorted WHERE ts >= CAST(CAST('{week}'::TIMESTAMP AS DATE) AS TIMESTAMP) GROUP BY ALL"),
    };
    double Time(string sql)
    {
        var times = new List<double>();
        for (var r = 0; r < Math.Max(runs, 3) + 1; r++)
        {
            var clock = Stopwatch.StartNew();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            while (reader.Read()) { }
            if (r > 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Measure.Median(times);
    }
    return queries.Select(q => (q.Name, Time(q.Lake), Time(q.Sorted))).ToList();
}

/// <summary>Write amplification as LSM stores count it: all bytes written over the bytes ingested (here, the parts each tick wrote).</summary>
internal sealed record SimulatedDayResult(double WriteAmplification, double WrittenPerRestByte, double RowsRewrittenPerRow, int MaxFiles, int AtRest);

internal sealed record Options(long Rows, int Sensors, int Cadence, int Runs, string? DatabaseUrl, string? Out)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        return new Options(
            long.Parse(Value("--rows") ?? "10000000", CultureInfo.InvariantCulture),
            int.Parse(Value("--sensors") ?? "500", CultureInfo.InvariantCulture),
            int.Parse(Value("--cadence") ?? "30", CultureInfo.InvariantCulture),
            int.Parse(Value("--runs") ?? "3", CultureInfo.InvariantCulture),
            Value("--database-url"),
            Value("--out"));
    }
}
