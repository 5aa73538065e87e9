using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;
using AkkaLake.Demo;
using AkkaLake.Testing;
using DuckDB.NET.Data;
using Npgsql;

namespace AkkaLake.Benchmarks;

/// <param name="ResentShare">The share of a tick's readings sent again (an upsert re-stamping a reading already there).</param>
/// <param name="ResentWithin">How far back the re-sent readings lie: minutes for retransmissions, hours for late corrections.</param>
internal sealed record SteadyKnobs(double ResentShare, TimeSpan ResentWithin, TimeSpan Duration);

/// <summary>
/// The daemon's life after its first backfill, at the controller's scale (readings with noise, two
/// decimals, as real sensors report them; <see cref="SampleReadings.NoisyValueAt"/>): the real program
/// (<c>akkalake run</c>, 10 s ticks, the default lag guard and reconciliation schedule) while every
/// sensor sends a reading every cadence and a share of readings are sent again, as the
/// controller's ingest paths upsert them (<c>value</c> changed, <c>inserted_at</c> re-stamped).
/// Measured from /proc over the window: the daemon's CPU share, bytes it wrote per reading that
/// arrived (logical writes, <c>wchar</c>, and what reached the disk, <c>write_bytes</c>), peak RSS;
/// from its log, each tick's time and lag; from its manifest, files per shard-day of today; the
/// controller's reads of today against DuckDB's own files of the same rows; a listing soak (one row
/// per key in every listing); and at the end the lake against PostgreSQL. Reconciliation runs on
/// its schedule, but none is due in the window (each day counts as just checked); one check of today
/// and one of yesterday are measured on their own and added at their hourly share.
/// </summary>
internal sealed class SteadyState(string exe, string database, NpgsqlDataSource dataSource, LakeSettings lake, int sensors, int cadenceSeconds, string work)
{
    public async Task<Dictionary<string, object>> RunAsync(SteadyKnobs knobs, Action<string> say)
    {
        var results = new Dictionary<string, object>();
        var conf = Path.Combine(work, "steady.conf");
        File.WriteAllText(conf, "akkalake { replication-interval-seconds = 10\nhot-retention-days = 90 }");
        var now = DateTimeOffset.UtcNow;
        new ReconcileStateStore(lake.StatePath).Save(new ManifestStore(lake.StatePath).Load()!.Metrics.Partitions.Keys.ToDictionary(LakeLayout.ParseDateKey, _ => now));
        var finalBytesPerRow = FinalBytesPerRow();

        using var daemon = Start([exe, "run", "--config", conf, "--data-root", lake.DataRoot, "--database-url", database]);
        using var stop = new CancellationTokenSource();
        var arrivals = new Arrivals();
        // The first tick commits before the window opens: start-up is not the steady state.
        await WaitForAsync(() => ReplicatedLines().Count >= 1, TimeSpan.FromMinutes(5));
        var load = LoadAsync(knobs, arrivals, stop.Token);
        var listings = ListingSoakAsync(stop.Token);
        var first = ProcStat.Of(daemon.Id);
        var clock = Stopwatch.StartNew();
        var maxFiles = 0;
        long peak = 0;
        while (clock.Elapsed < knobs.Duration)
        {
            await Task.Delay(1000);
            maxFiles = Math.Max(maxFiles, TodaysMostFiles());
            peak = Math.Max(peak, ProcStat.Of(daemon.Id).PeakRssBytes);
        }
        var last = ProcStat.Of(daemon.Id);
        var window = clock.Elapsed.TotalSeconds;
        // The controller's reads of today while readings keep arriving (after the window: the reads' work is not the daemon's).
        var (reads, raced) = ReadsOfToday();
        await stop.CancelAsync();
        await load;
        var (listed, duplicated, failed) = await listings;

        // Caught up: every reading that arrived is committed, then the daemon stops.
        await WaitForAsync(() => new ManifestStore(lake.StatePath).Load()!.Metrics.ComputedThroughTs >= arrivals.LastAt, TimeSpan.FromMinutes(3));
        Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        await daemon.WaitForExitAsync();

        var cpuSeconds = (last.CpuTicks - first.CpuTicks) / 100.0;
        var readings = arrivals.Inserted + arrivals.Resent;
        var checks = ReconcileChecks(conf);
        var ticks = ReplicatedLines().Skip(1).ToList();
        var durations = ticks.Select(t => t.DurationMs / 1000.0).ToList();
        var lags = ticks.Select(t => t.LagSeconds).ToList();
        results["steady_resent_share"] = knobs.ResentShare;
        results["steady_resent_within_seconds"] = knobs.ResentWithin.TotalSeconds;
        results["steady_window_seconds"] = window;
        results["steady_readings"] = readings;
        results["steady_resent"] = arrivals.Resent;
        results["steady_cpu_share"] = cpuSeconds / window;
        results["steady_cpu_share_with_reconciliation"] = (cpuSeconds + (checks.Today + checks.Yesterday) * window / 3600) / window;
        results["steady_reconcile_today_cpu_seconds"] = checks.Today;
        results["steady_reconcile_yesterday_cpu_seconds"] = checks.Yesterday;
        results["steady_written_bytes_per_reading"] = (double)(last.WrittenChars - first.WrittenChars) / readings;
        results["steady_disk_bytes_per_reading"] = (double)(last.WrittenToDisk - first.WrittenToDisk) / readings;
        results["steady_final_bytes_per_reading"] = finalBytesPerRow;
        results["steady_tick_p50_seconds"] = Percentile(durations, 0.5);
        results["steady_tick_p99_seconds"] = Percentile(durations, 0.99);
        results["steady_tick_max_seconds"] = durations.DefaultIfEmpty().Max();
        results["steady_lag_p50_seconds"] = Percentile(lags, 0.5);
        results["steady_lag_max_seconds"] = lags.DefaultIfEmpty().Max();
        results["steady_peak_rss_mb"] = peak / 1048576.0;
        results["steady_max_files_per_shard_day_today"] = maxFiles;
        results["steady_listings"] = listed;
        results["steady_listings_with_a_key_twice"] = duplicated;
        results["steady_listings_failed"] = failed;
        var differs = Reconcile(conf);
        results["steady_lake_equals_postgres"] = differs == 0;

        var perReading = (double)results["steady_written_bytes_per_reading"];
        say($"steady state, {sensors:N0} sensors every {cadenceSeconds} s, {knobs.ResentShare:P1} re-sent from the last {Span(knobs.ResentWithin)}, {window / 60:0.0} min, {ticks.Count} ticks:");
        say($"  daemon CPU {cpuSeconds / window:P1} of one core; with reconciliation at its hourly share (today {checks.Today:0.0} s, yesterday {checks.Yesterday:0.0} s of CPU a check) {(double)results["steady_cpu_share_with_reconciliation"]:P1}");
        say($"  written per reading that arrived: {perReading:N0} bytes ({perReading / finalBytesPerRow:0.0} x the {finalBytesPerRow:0.0} bytes a reading takes in the final files), {(double)results["steady_disk_bytes_per_reading"]:N0} bytes reached the disk");
        say($"  tick p50 {Percentile(durations, 0.5):0.00} s, p99 {Percentile(durations, 0.99):0.00} s, max {durations.DefaultIfEmpty().Max():0.00} s (interval 10 s); lag p50 {Percentile(lags, 0.5):0} s, max {lags.DefaultIfEmpty().Max():0} s");
        say($"  peak RSS {peak / 1048576.0:0} MB; at most {maxFiles} files in a shard-day of today; {listed} listings of today, {duplicated} with a key twice, {failed} failed; lake equals PostgreSQL: {(differs == 0 ? "yes" : $"no, {differs} days differ")}");
        results["steady_reads_raced"] = raced;
        say($"  the controller's reads of today (a daemon replicating beside them; {raced} reads listed a file renamed before DuckDB opened it, and were listed again):");
        foreach (var read in reads)
        {
            results[$"steady_read_{read.Name}_controller_ms"] = read.ControllerMs;
            results[$"steady_read_{read.Name}_duckdb_reference_ms"] = read.ReferenceMs;
            say($"  read {read.Name,-32} {read.Files,4} files: as the controller {read.ControllerMs,7:0.0} ms, DuckDB's own files {read.ReferenceMs,7:0.0} ms ({read.ControllerMs / read.ReferenceMs:0.00} x)");
        }
        return results;
    }

    /// <summary>What arrived: readings inserted and re-sent, and when the last of them was stamped.</summary>
    private sealed class Arrivals
    {
        public long Inserted;
        public long Resent;
        public DateTimeOffset LastAt;
    }

    /// <summary>Every cadence, a reading per sensor at that instant, and the share re-sent of readings within the window back.</summary>
    private async Task LoadAsync(SteadyKnobs knobs, Arrivals arrivals, CancellationToken stop)
    {
        var random = new Random(20261206);
        var cadence = TimeSpan.FromSeconds(cadenceSeconds);
        var next = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / cadence.Ticks * cadence.Ticks, TimeSpan.Zero) + cadence;
        var resentPerTick = (int)Math.Round(knobs.ResentShare * sensors);
        await using var c = await dataSource.OpenConnectionAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            var wait = next - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
                try { await Task.Delay(wait, stop); } catch (OperationCanceledException) { break; }
            await using (var insert = new NpgsqlCommand("""
                INSERT INTO metrics (sensor_id, ts, value, quality, inserted_at, samples, source)
                SELECT format('sensor-%s', lpad(s::text, 4, '0')), @ts, round((sin(extract(epoch FROM @ts) / 600 + s) * 10 + s + random() * 2 - 1)::numeric, 2)::float8, (s % 3)::smallint, now(),
                       CASE WHEN s % 2 = 0 THEN s % 7 END, CASE WHEN s % 5 = 0 THEN 'modbus' ELSE 'lora' END
                FROM generate_series(0, @n - 1) s ON CONFLICT DO NOTHING
                """, c))
            {
                insert.Parameters.AddWithValue("ts", next);
                insert.Parameters.AddWithValue("n", sensors);
                arrivals.Inserted += await insert.ExecuteNonQueryAsync(CancellationToken.None);
            }
            if (resentPerTick > 0)
            {
                var steps = Math.Max(1, (int)(knobs.ResentWithin / cadence));
                var keys = Enumerable.Range(0, resentPerTick)
                    .Select(_ => $"('{SampleReadings.SensorId(random.Next(sensors))}', '{Timestamps.Format(next - cadence * random.Next(1, steps + 1))}'::timestamptz)");
                await using var resend = new NpgsqlCommand(
                    $"UPDATE metrics m SET value = m.value + 1, inserted_at = now() FROM (VALUES {string.Join(", ", keys)}) AS v(id, ts) WHERE m.sensor_id = v.id AND m.ts = v.ts", c);
                arrivals.Resent += await resend.ExecuteNonQueryAsync(CancellationToken.None);
            }
            arrivals.LastAt = DateTimeOffset.UtcNow;
            next += cadence;
        }
    }

    /// <summary>Today as the controller lists it, every few seconds: each key must be there once.</summary>
    private async Task<(int Listed, int Duplicated, int Failed)> ListingSoakAsync(CancellationToken stop)
    {
        var reader = new ControllerReader(lake.HotPath, lake.ColdPath, lake.Shards, "UTC");
        int listed = 0, duplicated = 0, failed = 0;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(5000, stop); } catch (OperationCanceledException) { break; }
            var now = DateTimeOffset.UtcNow;
            var files = reader.ListFiles(Enumerable.Range(0, sensors).Select(SampleReadings.SensorId), new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero), now);
            try
            {
                using var connection = new DuckDBConnection("Data Source=:memory:");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = $"SELECT count(*) - count(DISTINCT (sensor_id, ts)) FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
                if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0) duplicated++;
                listed++;
            }
            catch (DuckDBException)
            {
                // A file renamed between the listing and DuckDB's open of it.
                failed++;
            }
        }
        return (listed, duplicated, failed);
    }

    /// <summary>Timed while a daemon replicates and compacts today, as the controller reads it at any moment.</summary>
    private (List<ReadResult> Reads, int Raced) ReadsOfToday()
    {
        using var reads = ControllerReads.Today(lake, new ManifestStore(lake.StatePath).Load()!, Path.Combine(work, "steady-reads"), DateTimeOffset.UtcNow.AddMinutes(-2), sensors, 3);
        return (reads.Run(), reads.RacedListings);
    }

    /// <summary>Bytes a reading takes in the final files: the first backfill's, one file per shard-day.</summary>
    private double FinalBytesPerRow()
    {
        var files = new ManifestStore(lake.StatePath).Load()!.Files().ToList();
        return (double)files.Sum(f => f.File.Bytes) / files.Sum(f => f.File.Rows);
    }

    private int TodaysMostFiles()
    {
        try
        {
            var key = LakeLayout.DateKey(DateOnly.FromDateTime(DateTime.UtcNow));
            return new ManifestStore(lake.StatePath).Load()!.Metrics.Partitions.GetValueOrDefault(key)?.Shards.Values.Max(s => s.Files.Count) ?? 0;
        }
        catch (ManifestUnreadableException)
        {
            return 0;
        }
    }

    /// <summary>CPU seconds of one check of today and of yesterday, each a reconcile --dry-run of that day alone.</summary>
    private (double Today, double Yesterday) ReconcileChecks(string conf)
    {
        double Check(DateOnly day)
        {
            var d = LakeLayout.DateKey(day);
            using var p = Start([exe, "reconcile", "--dry-run", "--from", d, "--to", d, "--config", conf, "--data-root", lake.DataRoot, "--database-url", database]);
            double cpu = 0;
            while (!p.WaitForExit(100)) cpu = Math.Max(cpu, ProcStat.Of(p.Id).CpuTicks / 100.0);
            return cpu;
        }
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        return (Check(today), Check(today.AddDays(-1)));
    }

    /// <summary>Days that differ between the lake and PostgreSQL, as a full reconcile --dry-run finds them.</summary>
    private int Reconcile(string conf)
    {
        using var p = Start([exe, "reconcile", "--dry-run", "--json", "--config", conf, "--data-root", lake.DataRoot, "--database-url", database], readOutput: true);
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("days").EnumerateArray().Count(d => d.GetProperty("shards").GetArrayLength() > 0);
    }

    private sealed record Tick(long DurationMs, double LagSeconds);

    private List<Tick> ReplicatedLines()
    {
        var logs = Path.Combine(lake.DataRoot, "logs");
        if (!Directory.Exists(logs)) return [];
        var ticks = new List<Tick>();
        foreach (var file in Directory.GetFiles(logs, "akkalake-*.json").Order(StringComparer.Ordinal))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var text = new StreamReader(stream);
            while (text.ReadLine() is { } line)
            {
                if (!line.Contains("\"@mt\":\"Replicated ", StringComparison.Ordinal)) continue;
                try
                {
                    using var json = JsonDocument.Parse(line);
                    ticks.Add(new Tick(json.RootElement.GetProperty("DurationMs").GetInt64(), json.RootElement.GetProperty("LagSeconds").GetDouble()));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException)
                {
                }
            }
        }
        return ticks;
    }

    /// <summary>The program as its own process; what it prints is drained unless <paramref name="readOutput"/>.</summary>
    private static Process Start(string[] args, bool readOutput = false)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        var p = Process.Start(start)!;
        if (!readOutput) _ = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = p.StandardError.BaseStream.CopyToAsync(Stream.Null);
        return p;
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the steady phase waited in vain");
            await Task.Delay(500);
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static string Span(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : $"{t.TotalMinutes:0} min";

    /// <summary>A process's CPU ticks (user + system, 1/100 s), bytes written through write calls and to the disk, and peak RSS, from /proc.</summary>
    private sealed record ProcStat(long CpuTicks, long WrittenChars, long WrittenToDisk, long PeakRssBytes)
    {
        public static ProcStat Of(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                long cpu = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                long wchar = 0, disk = 0, hwm = 0;
                foreach (var line in File.ReadLines($"/proc/{pid}/io"))
                {
                    if (line.StartsWith("wchar:", StringComparison.Ordinal)) wchar = long.Parse(line[6..].Trim(), CultureInfo.InvariantCulture);
                    else if (line.StartsWith("write_bytes:", StringComparison.Ordinal)) disk = long.Parse(line[12..].Trim(), CultureInfo.InvariantCulture);
                }
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        hwm = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                return new ProcStat(cpu, wchar, disk, hwm);
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
            {
                return new ProcStat(0, 0, 0, 0);
            }
        }
    }
}
