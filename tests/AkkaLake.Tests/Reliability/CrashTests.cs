using AkkaLake.Core.Layout;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Reliability;

/// <summary>
/// Kills the real daemon again and again while PostgreSQL keeps receiving inserts, and runs it
/// with writes that keep failing (replication.json, deleting superseded files), then checks that
/// nothing was lost, doubled or corrupted. AKKALAKE_CRASH_CYCLES sets the number of kill/restart
/// cycles (20 by default; the soak runs hundreds).
/// </summary>
[Collection(PostgresCollection.Name)]
public class CrashTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly string[] NamedFaults =
    [
        "move.after-copy-file", "move.after-manifest", "export.after-chunk", "writer.after-part", "commit.after-pending",
        "commit.after-rename", "commit.after-manifest", "compaction.before-commit",
    ];

    /// <summary>Writes that fail for a whole daemon run, as on a full or failing disk: the daemon carries on.</summary>
    private static readonly string[] FailingWrites = ["state.save", "delete.due"];

    [Fact]
    public async Task The_lake_equals_postgres_after_kills_at_random_moments_and_at_every_named_step()
    {
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("AKKALAKE_CRASH_CYCLES"), out var n) ? n : 20;
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddDays(-4), t0.AddMinutes(-1), TimeSpan.FromMinutes(20), sensors: 8);
        using var cold = new TempDirectory();
        // Written with a wide horizon, then run with a 2-day one and a cold path, so partitions move while the daemon is being killed.
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: cold.Path, extraConfig: "hot-retention-days = 10");
        lake.RunOnce();
        lake.Reconfigure("hot-retention-days = 2\ndelete-grace-seconds = 0");

        using var stop = new CancellationTokenSource();
        var inserts = KeepInsertingAsync(source.ConnectionString, stop.Token);
        var random = new Random(12345);
        var hit = new List<string>();
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            var fault = cycle < NamedFaults.Length * 2 && cycle % 2 == 1 ? NamedFaults[cycle / 2] : null;
            var environment = fault is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["AKKALAKE_FAULTS"] = fault + "=crash" };
            using var daemon = DaemonProcess.Start(environment, lake.Args("run"));
            // A named fault gets time to reach its point and crash by itself; otherwise a SIGKILL at a random moment.
            var deadline = DateTime.UtcNow + (fault is null ? TimeSpan.FromMilliseconds(random.Next(400, 3000)) : TimeSpan.FromSeconds(10));
            while (DateTime.UtcNow < deadline && !daemon.HasExited) await Task.Delay(20);
            if (daemon.HasExited && fault is not null && daemon.Output.Contains("fault injection", StringComparison.Ordinal))
                hit.Add(fault);
            if (!daemon.HasExited) daemon.Signal("KILL");
            daemon.WaitForExit(TimeSpan.FromSeconds(30));
        }
        foreach (var failing in FailingWrites)
        {
            using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["AKKALAKE_FAULTS"] = failing + "=throw" }, lake.Args("run"));
            await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.False(daemon.HasExited, daemon.Output);
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        await stop.CancelAsync();
        await inserts;

        // A quiet run catches up; then the lake must equal PostgreSQL and pass verify.
        lake.RunOnce();
        lake.RunOnce();
        output.WriteLine($"{cycles} kill/restart cycles; crashed at named points: {string.Join(", ", hit)}; {(await source.RowsAsync()).Count} rows");
        await ExplainDifferenceAsync(source, lake);
        await lake.AssertLakeEqualsSourceAsync(source);
        Assert.Contains(lake.Manifest.Metrics.Partitions.Values, p => p.Location == Core.Layout.LakeLocation.Cold);
        lake.AssertFilesAreWellFormed();
        var verify = CliRunner.Run(lake.Args("verify", "--json"));
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.True(hit.Count >= 5, $"only these named fault points were reached: {string.Join(", ", hit)}");
    }

    private async Task ExplainDifferenceAsync(SourceDatabase source, LakeUnderTest lake)
    {
        var inLake = lake.Rows().Select(r => (r.SensorId, Core.Timestamps.ToMicros(r.Ts))).ToHashSet();
        await using var c = await source.OpenAsync();
        await using var q = new NpgsqlCommand("SELECT sensor_id, ts, inserted_at FROM metrics", c);
        await using var reader = await q.ExecuteReaderAsync();
        var missing = new List<(string, DateTimeOffset, DateTimeOffset?)>();
        while (await reader.ReadAsync())
        {
            var key = (reader.GetString(0), Core.Timestamps.ToMicros(reader.GetFieldValue<DateTimeOffset>(1)));
            if (!inLake.Contains(key)) missing.Add((key.Item1, reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2)));
        }
        if (missing.Count == 0) return;
        output.WriteLine($"{missing.Count} rows missing; watermark {lake.Manifest.Metrics.ComputedThroughTs:O}");
        foreach (var g in missing.GroupBy(m => m.Item2.UtcDateTime.Date))
            output.WriteLine($"  ts date {g.Key:yyyy-MM-dd}: {g.Count()} rows, inserted_at {g.Min(m => m.Item3):O} .. {g.Max(m => m.Item3):O}");
        foreach (var (date, p) in lake.Manifest.Metrics.Partitions)
            output.WriteLine($"  partition {date} {p.Location} files={p.FileCount} rows={p.Rows}");
        output.WriteLine(File.ReadAllText(lake.LogFile).Length > 0 ? string.Join("\n", File.ReadAllLines(lake.LogFile).Where(l => l.Contains("\"@l\":\"Warning\"") || l.Contains("Moved") || l.Contains("moved") || l.Contains("Recovery")).TakeLast(40)) : "");
    }

    /// <summary>New readings every 100 ms, each insert its own transaction stamped at its start, as on the controller.</summary>
    private static async Task KeepInsertingAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken.None);
        var i = 0;
        while (!ct.IsCancellationRequested)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO metrics (sensor_id, ts, value) SELECT format('sensor-%s', lpad(s::text, 4, '0')), now() - make_interval(secs => @i), @i FROM generate_series(0, 7) s ON CONFLICT DO NOTHING",
                connection);
            insert.Parameters.AddWithValue("i", (double)i++);
            await insert.ExecuteNonQueryAsync(CancellationToken.None);
            try { await Task.Delay(100, ct); } catch (OperationCanceledException) { }
        }
    }
}
