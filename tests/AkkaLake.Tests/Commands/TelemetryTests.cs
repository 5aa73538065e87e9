using System.Text.Json.Nodes;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

[Collection(PostgresCollection.Name)]
public class TelemetryTests(PostgresFixture postgres)
{
    [Fact]
    public async Task One_cycle_logs_a_summary_per_batch_as_structured_json_with_the_operator_properties()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddHours(-3), t0.AddMinutes(-30), TimeSpan.FromMinutes(10));
        // The server trusts local connections, so the password is never used, only carried.
        using var lake = new LakeUnderTest(source.ConnectionString + ";Password=pw-must-not-be-logged", shards: 2);
        lake.RunOnce();
        await source.InsertStampedNowAsync(10, t0.AddMinutes(-20), t0.AddMinutes(-1), TimeSpan.FromMinutes(5));
        lake.RunOnce();

        // One JSON object per line, readable by common tools.
        var events = File.ReadAllLines(lake.LogFile).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var backfilled = events.FirstOrDefault(e => ((string)e["@mt"]!).StartsWith("Backfilled {Date}: {Rows}", StringComparison.Ordinal));
        Assert.True(backfilled is not null, "No backfill line among:\n" + string.Join("\n", events.Select(e => e.ToJsonString())));
        var replicated = events.Last(e => ((string)e["@mt"]!).StartsWith("Replicated", StringComparison.Ordinal));
        foreach (var property in new[] { "Rows", "Files", "Bytes", "DurationMs", "RowsPerSecond", "Watermark", "LagSeconds", "RunId" })
        {
            Assert.True(replicated.ContainsKey(property), $"Replicated line lacks {property}");
            Assert.True(backfilled.ContainsKey(property), $"Backfilled line lacks {property}");
        }
        Assert.True(backfilled.ContainsKey("Date"));
        Assert.True((long)replicated["Rows"]! > 0);
        Assert.True((long)replicated["Files"]! > 0);
        Assert.Contains(events, e => ((string)e["@mt"]!).StartsWith("Replicating from {Database}", StringComparison.Ordinal));
        Assert.DoesNotContain("pw-must-not-be-logged", File.ReadAllText(lake.LogFile));
        Assert.Contains(events, e => ((string)e["@mt"]!).StartsWith("AkkaLake is stopping", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_batch_the_lag_guard_holds_rows_back_from_says_how_many_wait_and_names_the_setting()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, lagSeconds: 600);
        lake.RunOnce();
        await source.InsertStampedNowAsync(0, t0.AddMinutes(-30), t0.AddMinutes(-1), TimeSpan.FromMinutes(10));
        lake.RunOnce();

        var events = File.ReadAllLines(lake.LogFile).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var replicated = events.Last(e => ((string)e["@mt"]!).StartsWith("Replicated", StringComparison.Ordinal));
        Assert.Equal(0, (long)replicated["Rows"]!);
        Assert.True((long)replicated["HeldBack"]! > 0, replicated.ToJsonString());
        Assert.Contains("CORE_ANALYSIS_REPLICATION_LAG_SECONDS", (string)replicated["@mt"]!);
    }

    private static double Sample(string scrape, string metric)
    {
        var match = System.Text.RegularExpressions.Regex.Match(scrape, $@"^{metric}(?:{{[^}}]*}})? ([0-9.eE+-]+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(match.Success, $"{metric} is not in the scrape:\n{scrape}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_daemon_given_a_metrics_port_serves_prometheus_text_whose_counters_move_and_its_health_beside_it()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddHours(-2), t0.AddMinutes(-1), TimeSpan.FromMinutes(5));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        var port = Demo.LocalPostgresServer.FreePort();

        using var daemon = DaemonProcess.Start([.. lake.Args("run"), "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await daemon.WaitForOutputAsync("Backfill of", TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        async Task<string> ScrapeAsync() => await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var first = await ScrapeAsync();
        while (!first.Contains("akkalake_replication_rows", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            first = await ScrapeAsync();
        }
        // The OpenTelemetry resource names the service, not unknown_service.
        Assert.Contains("service_name=\"akkalake\"", first);
        var rowsBefore = Sample(first, "akkalake_replication_rows_total");
        Assert.True(rowsBefore > 0);
        Assert.InRange(Sample(first, "akkalake_watermark_lag_seconds"), 0, 600);

        await source.InsertStampedNowAsync(10, t0.AddMinutes(-10), t0.AddMinutes(-1), TimeSpan.FromMinutes(1));
        var later = first;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (Sample(later, "akkalake_replication_rows_total") <= rowsBefore && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            later = await ScrapeAsync();
        }
        Assert.True(Sample(later, "akkalake_replication_rows_total") > rowsBefore, later);
        // A lake just backfilled holds its final files: no compaction backlog.
        Assert.Equal(0, Sample(later, "akkalake_compaction_backlog_files"));
        Assert.Equal(0, Sample(later, "akkalake_compaction_backlog_shard_days"));

        // Health beside the metrics: live and fresh, ready once backfilled.
        foreach (var path in new[] { "healthz", "readyz" })
        {
            var response = await http.GetAsync($"http://127.0.0.1:{port}/{path}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Equal("Healthy", (string)JsonNode.Parse(body)!["status"]!);
        }
        var live = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/healthz"))!["checks"]!.AsObject();
        Assert.Equal(["akka.actorsystem", "freshness", "lake-coordinator", "replication"], live.Select(c => c.Key).Order(StringComparer.Ordinal));
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_first_backfill_in_progress_is_not_ready_without_an_error_and_status_is_healthy_right_after_it()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddDays(-3), t0.AddMinutes(-5), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        var port = Demo.LocalPostgresServer.FreePort();
        // Each backfilled day's chunk waits a little, so the backfill is still running when /readyz is asked.
        using var daemon = DaemonProcess.Start(new Dictionary<string, string> { [Hosting.EnvironmentFaults.Variable] = "export.after-chunk=pause:500" },
            [.. lake.Args("run"), "--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var http = new HttpClient();

        var notReady = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync($"http://127.0.0.1:{port}/readyz");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
                continue;
            }
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && body.Contains("Healthy", StringComparison.Ordinal)) break;
            if (body.Contains("first backfill", StringComparison.Ordinal)) notReady++;
            await Task.Delay(200);
        }
        Assert.True(notReady > 0, "the backfill was never seen running");
        await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));

        var status = CliRunner.Run(lake.Args("status"));
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("HEALTHY", status.Output);
        Assert.DoesNotContain("\"@l\":\"Error\"", File.ReadAllText(lake.LogFile));
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }
}
