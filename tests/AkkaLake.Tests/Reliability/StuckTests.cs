using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using AkkaLake.Demo;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;

namespace AkkaLake.Tests.Reliability;

/// <summary>
/// Replication that cannot go on says why within its deadline (here 3 s): /healthz answers 503
/// and <c>status</c> names the cause in words, and both clear once it goes on again.
/// </summary>
[Collection(PostgresCollection.Name)]
public class StuckTests(PostgresFixture postgres)
{
    private const string Deadline = "stall-after-seconds = 3";

    private static async Task<(HttpStatusCode Code, string Replication)> HealthAsync(HttpClient http, int port)
    {
        var response = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, (string)body["checks"]!["replication"]!["description"]!);
    }

    /// <summary>/healthz once it answers <paramref name="code"/> with its replication check saying <paramref name="says"/> (or at the timeout).</summary>
    private static async Task<(HttpStatusCode Code, string Replication)> HealthUntilAsync(HttpClient http, int port, HttpStatusCode code, string says, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var health = await HealthAsync(http, port);
                if ((health.Code == code && health.Replication.Contains(says, StringComparison.Ordinal)) || DateTime.UtcNow > deadline) return health;
            }
            catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException && DateTime.UtcNow < deadline)
            {
                // The daemon is not listening yet, or only its metrics exporter is.
            }
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_lock_held_on_the_table_is_reported_with_the_session_that_holds_it_and_replication_goes_on_once_it_is_released()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddHours(-3), DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: Deadline);
        lake.RunOnce();
        var port = LocalPostgresServer.FreePort();
        using var daemon = DaemonProcess.Start([.. lake.Args("run"), "--metrics-port", port.ToString(CultureInfo.InvariantCulture)]);
        await daemon.WaitForOutputAsync("Replicated ", TimeSpan.FromSeconds(60));
        using var http = new HttpClient();

        // Another session takes the table and keeps it, as a migration or a hand-run maintenance would.
        await using var holder = await source.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE", holder, transaction)) await take.ExecuteNonQueryAsync();

        var stuck = await HealthUntilAsync(http, port, HttpStatusCode.ServiceUnavailable, "lock held by", TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.Code);
        Assert.Contains($"held by session {holder.ProcessID}", stuck.Replication);
        Assert.Contains("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE", stuck.Replication);
        var status = await StatusOnceDownAsync(lake);
        Assert.Equal(2, status.ExitCode);
        Assert.Contains($"held by session {holder.ProcessID}", status.Output);
        Assert.DoesNotContain("Exception while reading from stream", status.Output);

        await transaction.RollbackAsync();
        await source.InsertStampedNowAsync(10, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(10));
        await lake.EventuallyEqualsSourceAsync(source, TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await HealthUntilAsync(http, port, HttpStatusCode.OK, "running", TimeSpan.FromSeconds(30))).Code);
        Assert.Contains("Replication goes on again", daemon.Output);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task PostgreSQL_unreachable_past_the_deadline_is_down_with_the_reason_in_words()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: Deadline);
        lake.RunOnce();
        var nowhere = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Port = LocalPostgresServer.FreePort(), Timeout = 2 }.ConnectionString;
        var args = lake.Args("run");
        args[Array.IndexOf(args, "--database-url") + 1] = nowhere;
        var port = LocalPostgresServer.FreePort();
        using var daemon = DaemonProcess.Start([.. args, "--metrics-port", port.ToString(CultureInfo.InvariantCulture)]);
        using var http = new HttpClient();

        var down = await HealthUntilAsync(http, port, HttpStatusCode.ServiceUnavailable, "unreachable", TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Code);
        Assert.Contains("is unreachable: nothing accepts connections there", down.Replication);
        var status = await StatusOnceDownAsync(lake);
        Assert.Equal(2, status.ExitCode);
        Assert.Contains("DOWN", status.Output);
        Assert.Contains("is unreachable: nothing accepts connections there", status.Output);
        Assert.False(daemon.HasExited);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    /// <summary>
    /// `status` once it says down (exit 2), or its last answer after 30 s: the daemon writes what
    /// `status` reads after it has judged itself down, off the actor's thread, so a little after its health endpoint says so.
    /// </summary>
    private static async Task<CliResult> StatusOnceDownAsync(LakeUnderTest lake)
    {
        var status = CliRunner.Run(lake.Args("status"));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); status.ExitCode != 2 && DateTime.UtcNow < deadline; status = CliRunner.Run(lake.Args("status")))
            await Task.Delay(200);
        return status;
    }
}
