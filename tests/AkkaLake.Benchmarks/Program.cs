using AkkaLake.Demo;
using System.Diagnostics;
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
using Npgsql;
using NpgsqlTypes;

// dotnet run -c Release --project tests/AkkaLake.Benchmarks -- [--rows 10000000 | --days N] [--sensors 500] [--cadence 30] [--order time|sensor]
//   [--jitter] [--runs 3] [--phases backfill,memory,incremental,day,formats,steady] [--resent 0.01] [--resent-within 2h] [--minutes 10] [--at HH:MM]
//   [--database-url URL] [--out FILE]
var options = Options.Parse(args);
if (FakeClock.RunAt(options.At, args) is { } exitCode) return exitCode;
var results = new Dictionary<string, object>();
var work = Directory.CreateTempSubdirectory("akkalake-bench-").FullName;
Console.WriteLine($"AkkaLake benchmark: {options.Rows:N0} readings ({options.Sensors} sensors every {options.Cadence} s{(options.Jitter ? ", jittered" : "")}, stored in {options.Order} order), {options.Runs} runs each, work dir {work}");

LocalPostgresServer? server = null;
var database = options.DatabaseUrl ?? (server = LocalPostgresServer.Start()).ConnectionString;
try
{
    // Loading and scanning millions of rows takes longer than Npgsql's default 30 s command timeout.
    await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(database)) { CommandTimeout = 0 }.ConnectionString);

    // 1. Readings in the controller's schema, stored in time order or sensor by sensor; up to now when the steady phase carries them on.
    var end = options.Includes("steady")
        ? new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.FromSeconds(options.Cadence).Ticks * TimeSpan.FromSeconds(options.Cadence).Ticks, TimeSpan.Zero)
        : DateTimeOffset.UtcNow.AddHours(-1);
    var steps = options.Rows / options.Sensors;
    var start = end.AddSeconds(-steps * options.Cadence);
    var generate = await Measure.SecondsAsync(async () =>
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using (var drop = new NpgsqlCommand("DROP TABLE IF EXISTS metrics; DROP TABLE IF EXISTS sensors;", c)) await drop.ExecuteNonQueryAsync();
        await SampleReadings.CreateSchemaAsync(c);
        // The load is not measured: skip the per-row foreign-key check (superuser only; the readings' sensors are inserted first).
        await using (var fast = new NpgsqlCommand("SET session_replication_role = replica", c)) await fast.ExecuteNonQueryAsync();
        await SampleReadings.InsertAsync(c, options.Sensors, TimeSpan.FromSeconds(options.Cadence), start, end, insertDelay: TimeSpan.FromSeconds(2), bySensor: options.BySensor, jitter: options.Jitter,
            noisy: options.Noisy);
        await using var analyze = new NpgsqlCommand("VACUUM ANALYZE metrics", c);
        await analyze.ExecuteNonQueryAsync();
    });
    var rows = (long)steps * options.Sensors;
    Console.WriteLine($"generated {rows:N0} rows over {(end - start).TotalDays:0.0} days in {generate:0.0} s");
    results["rows"] = rows;
    results["order"] = options.Order;
    results["jitter"] = options.Jitter;

    // 2. The source's own limit: a binary COPY of the same rows, every field read, nothing written.
    const string everything = "COPY (SELECT sensor_id::text, ts, value::float8, quality::int4, samples::int4, source::text, inserted_at FROM metrics) TO STDOUT (FORMAT BINARY)";
    var limitRuns = new List<double>();
    for (var r = 0; r < options.Runs; r++)
        limitRuns.Add(rows / await Measure.SecondsAsync(() => CopyEverythingAsync(dataSource, [everything])));
    var limit = Measure.Median(limitRuns);
    results["source_limit_rows_per_s"] = limit;
    Console.WriteLine($"source limit (binary COPY, all fields read): {limit:N0} rows/s");

    var table = new SourceTable(SourceTable.DefaultName, HasSamples: true, HasSource: true);
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    var conf = Path.Combine(work, "bench.conf");
    // Reconciliation off: each phase measures one kind of work (its pass is measured on its own).
    File.WriteAllText(conf, "akkalake { replication-lag-seconds = 0\nhot-retention-days = 90\nreconcile-interval-seconds = 0" +
        (options.Streams is { } streams ? $"\nbackfill-streams = {streams}" : "") + " }");
    var exe = Path.Combine(AppContext.BaseDirectory, "akkalake.dll");
    LakeSettings Lake(string name) => LakeSettingsParser.Parse(new Dictionary<string, string?> { ["data-root"] = Path.Combine(work, name), ["database-url"] = database, ["replication-lag-seconds"] = "0" });
    ProcessRun Backfill(LakeSettings lake, string config, string what)
    {
        var run = Measure.Process("dotnet", [exe, "run", "--once", "--config", config, "--data-root", lake.DataRoot, "--database-url", database]);
        if (run.ExitCode != 0) throw new InvalidOperationException($"{what} failed: " + run.Output);
        return run;
    }
    void ReportBackfill(string key, string what, LakeSettings lake, ProcessRun run, double ofLimit)
    {
        var manifest = new ManifestStore(lake.StatePath).Load()!;
        var perShardDay = manifest.Metrics.Partitions.Values.SelectMany(p => p.Shards.Values).Select(s => s.Files.Count).ToList();
        var rate = rows / run.Seconds;
        results[$"{key}_rows_per_s"] = rate;
        results[$"{key}_ratio_to_limit"] = rate / ofLimit;
        results[$"{key}_peak_rss_mb"] = run.PeakRssMb;
        results[$"{key}_files"] = perShardDay.Sum();
        results[$"{key}_shard_days"] = perShardDay.Count;
        results[$"{key}_shard_days_in_more_than_one_file"] = perShardDay.Count(n => n > 1);
        results[$"{key}_bytes"] = manifest.Files().Sum(f => f.File.Bytes);
        var read = run.Output.Contains("in one pass over the source table", StringComparison.Ordinal) ? "one pass" : "by day";
        Console.WriteLine($"{what} ({read}): {rate:N0} rows/s (x{rate / ofLimit:0.00} of the limit; whole process incl. start-up), peak RSS {run.PeakRssMb:0} MB, " +
            $"{perShardDay.Sum():N0} files for {perShardDay.Count:N0} shard-days ({perShardDay.Count(n => n > 1)} in more than one), {LakeReportText.Bytes(manifest.Files().Sum(f => f.File.Bytes))}");
    }

    // 3. The real backfill through the actor pipeline, as its own process, into an empty lake, as
    // the daemon chooses to read it (the generated table is all backfill: one pass).
    var lake = Lake("lake-0");
    var backfills = new List<ProcessRun>();
    for (var r = 0; r < (options.Includes("backfill") ? options.Runs : 1); r++)
    {
        lake = Lake($"lake-{r}");
        backfills.Add(Backfill(lake, conf, "backfill"));
    }
    var median = backfills.OrderBy(b => b.Seconds).ElementAt(backfills.Count / 2);
    ReportBackfill("backfill", "backfill", lake, median with { PeakRssBytes = backfills.Max(b => b.PeakRssBytes) }, limit);
    var settings = lake;

    if (options.Includes("backfill"))
    {
        // 3a. The controller's reads right after it, against DuckDB's own partitioned COPY of the same rows.
        using (var reads = new ControllerReads(settings, new ManifestStore(settings.StatePath).Load()!, work, end, (end - start).TotalDays, options.Sensors, options.Runs))
        {
            var lakeBytes = new ManifestStore(settings.StatePath).Load()!.Files().Sum(f => f.File.Bytes);
            results["lake_bytes"] = lakeBytes;
            results["duckdb_reference_bytes"] = reads.ReferenceBytes;
            Console.WriteLine($"reads right after the backfill ({LakeReportText.Bytes(lakeBytes)}; DuckDB's own COPY of the same rows {LakeReportText.Bytes(reads.ReferenceBytes)}):");
            foreach (var read in reads.Run())
            {
                results[$"read_{read.Name}_controller_ms"] = read.ControllerMs;
                results[$"read_{read.Name}_duckdb_reference_ms"] = read.ReferenceMs;
                results[$"read_{read.Name}_sorted_ms"] = read.SortedMs;
                results[$"read_{read.Name}_floor_ms"] = read.FloorMs;
                Console.WriteLine($"read {read.Name,-40} {read.Files,5} files: as the controller {read.ControllerMs,7:0.0} ms, DuckDB's own files {read.ReferenceMs,7:0.0} ms " +
                    $"({read.ControllerMs / read.ReferenceMs:0.00} x, target 1.0 x {(read.ControllerMs <= read.ReferenceMs ? "met" : "MISSED")}), " +
                    $"one sorted file {read.SortedMs,7:0.0} ms ({read.ControllerMs / read.SortedMs:0.00} x, bound {read.BoundMs:0.0} ms {(read.ControllerMs <= read.BoundMs ? "met" : "missed")}), footers alone {read.FloorMs,6:0.0} ms");
            }
            if (options.Includes("formats"))
                FormatSweep.Run(settings, new ManifestStore(settings.StatePath).Load()!, reads, work, results);
        }

        // 3b. The same backfill read a day at a time.
        var byDay = Lake("lake-by-day");
        var byDayConf = conf + ".by-day";
        File.WriteAllText(byDayConf, File.ReadAllText(conf).Replace(" }", "\nfirst-backfill-read = by-day }", StringComparison.Ordinal));
        ReportBackfill("backfill_by_day", "backfill read a day at a time", byDay, Backfill(byDay, byDayConf, "backfill by day"), limit);

        // 3c. The same backfill where the source has no index on ts (a plain PostgreSQL install of the
        // controller's schema), read as the daemon chooses.
        await using (var c = await dataSource.OpenConnectionAsync())
        await using (var drop = new NpgsqlCommand("DROP INDEX metrics_ts_idx", c))
            await drop.ExecuteNonQueryAsync();
        var noIndex = Lake("lake-no-ts-index");
        ReportBackfill("backfill_no_ts_index", "backfill without metrics_ts_idx", noIndex, Backfill(noIndex, conf, "backfill without the ts index"), limit);
        await using (var c = await dataSource.OpenConnectionAsync())
        await using (var create = new NpgsqlCommand("CREATE INDEX metrics_ts_idx ON metrics(ts DESC)", c))
            await create.ExecuteNonQueryAsync();
    }

    if (options.Includes("memory"))
    {
        // 4. The daemon's memory in its other phases.
        var phases = new DaemonPhases(exe, conf, database);
        var fragmented = Lake("lake-fragmented");
        var (files, bytes) = DaemonPhases.Fragment(settings, fragmented, parts: 22);
        var catchUp = phases.CompactionCatchUp(fragmented, TimeSpan.FromMinutes(60));
        var after = new ManifestStore(fragmented.StatePath).Load()!;
        results["compaction_catch_up_seconds"] = catchUp.Seconds;
        results["compaction_catch_up_peak_rss_mb"] = catchUp.PeakRssMb;
        Console.WriteLine($"compaction catching up on a fragmented lake ({files:N0} files, {LakeReportText.Bytes(bytes)}; 22 open parts per shard-day): " +
            $"{after.Files().Count():N0} files after {catchUp.Seconds:0} s, peak RSS {catchUp.PeakRssMb:0} MB");
        var pass = phases.ReconcilePass(settings);
        results["reconcile_pass_peak_rss_mb"] = pass.PeakRssMb;
        Console.WriteLine($"reconciliation pass (akkalake reconcile --dry-run, every day): {pass.Seconds:0.0} s, exit {pass.ExitCode}, peak RSS {pass.PeakRssMb:0} MB");
        var idle = phases.Idle(settings, TimeSpan.FromSeconds(90));
        results["idle_rss_mb"] = idle.LastRssBytes / 1048576.0;
        results["idle_peak_rss_mb"] = idle.PeakRssMb;
        Console.WriteLine($"idle daemon on the up-to-date lake for 90 s: RSS {idle.LastRssBytes / 1048576.0:0} MB at the end, peak {idle.PeakRssMb:0} MB");
    }

    if (options.Includes("incremental"))
    {
        // 5. Incremental: 60 s of readings at 2,000 sensors every 10 s, tick to commit.
        var latencies = (await IncrementalLatencyAsync(settings, dataSource, options.Runs)).Select(l => l.Seconds).ToList();
        results["incremental_commit_seconds"] = Measure.Median(latencies);
        Console.WriteLine($"incremental batch of 12,000 rows: committed {Measure.Median(latencies):0.000} s after the tick (median)");

        // 5b. The same with 1% of the tick's rows upserting readings the lake already holds: the
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

        // 5c. Reconciliation: one pass over every day (PostgreSQL's per-sensor checksums against the
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
        using var stopPasses = new CancellationTokenSource();
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

    if (options.Includes("steady"))
        foreach (var (key, value) in await new SteadyState(exe, database, dataSource, settings, options.Sensors, options.Cadence, work).RunAsync(options.Steady, Console.WriteLine))
            results[key] = value;

    if (options.Includes("day"))
    {
        var day = SimulatedDay(Path.Combine(work, "day"), ticks: 1440, sensors: 125, cadenceSeconds: 10);
        results["day_rows_rewritten_per_row"] = day.RowsRewrittenPerRow;
        results["day_write_amplification"] = day.WriteAmplification;
        results["day_bytes_written_per_byte_at_rest"] = day.WrittenPerRestByte;
        results["day_max_files"] = day.MaxFiles;
        results["day_files_at_rest"] = day.AtRest;
        Console.WriteLine($"simulated day (1,440 ticks x 750 rows, one shard-day): write amplification {day.WriteAmplification:0.00} (bytes written by parts and compaction / bytes of the parts), "
            + $"{day.WrittenPerRestByte:0.00} per byte at rest, each row rewritten {day.RowsRewrittenPerRow:0.00} times by compaction; at most {day.MaxFiles} files, {day.AtRest} at rest");
    }

    var outFile = options.Out ?? Path.Combine(work, "results.json");
    File.WriteAllText(outFile, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"results written to {outFile}");
}
finally
{
    server?.Dispose();
}
return 0;

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
    void Compact(DateTimeOffset asOf)
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
        Compact(midnight.AddMinutes(t + 1));
        maxFiles = Math.Max(maxFiles, manifest.Files().Count());
    }
    Compact(midnight.AddDays(1).AddHours(1));
    var restBytes = (double)manifest.Files().Sum(f => f.File.Bytes);
    return new SimulatedDayResult((double)(partBytes + compactionBytes) / partBytes, (partBytes + compactionBytes) / restBytes, (double)rowsRewritten / rowsIn, maxFiles, manifest.Files().Count());
}

/// <summary>Write amplification as LSM stores count it: all bytes written over the bytes ingested (here, the parts each tick wrote).</summary>
internal sealed record SimulatedDayResult(double WriteAmplification, double WrittenPerRestByte, double RowsRewrittenPerRow, int MaxFiles, int AtRest);
