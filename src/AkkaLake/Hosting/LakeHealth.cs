using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using AkkaLake.Actors.Daemon;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.State;
using AkkaLake.Core.Status;
using AkkaLake.Core.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaLake.Hosting;

/// <summary>
/// The daemon's health, as Akka.Hosting health checks (Microsoft.Extensions.Diagnostics.HealthChecks):
/// liveness (the actor system and the lake coordinator are up), readiness (the lake is open and
/// its first backfill or takeover is done), freshness (the watermark within the late window, the
/// last run not failed). Served on the metrics port by <see cref="StatusEndpoint"/>: <c>/healthz</c>
/// liveness and freshness, <c>/readyz</c> readiness; 200 or 503 with the checks as JSON.
/// </summary>
public static class LakeHealth
{
    private const string Live = "live";
    private const string Ready = "ready";

    public static void Add(IServiceCollection services) => services.AddHealthChecks();

    public static AkkaConfigurationBuilder WithLakeHealthChecks(this AkkaConfigurationBuilder akka, LakeSettings settings) =>
        akka.WithActorSystemLivenessCheck(tags: [Live])
            .WithHealthCheck("lake-coordinator", CoordinatorAsync, tags: [Live])
            .WithHealthCheck("replication", ReplicationAsync, tags: [Live])
            .WithHealthCheck("freshness", (_, _, _) => Task.FromResult(Freshness(settings)), failureStatus: HealthStatus.Degraded, tags: [Live])
            .WithHealthCheck("lake-ready", (_, _, _) => Task.FromResult(Readiness()), tags: [Ready]);

    private static async Task<HealthCheckResult> CoordinatorAsync(ActorSystem system, ActorRegistry registry, CancellationToken ct)
    {
        if (!registry.TryGet<LakeDaemonActor>(out var daemon))
            return HealthCheckResult.Unhealthy("the daemon has not started");
        try
        {
            await system.ActorSelection(daemon.Path / LakeDaemon.CoordinatorName).ResolveOne(TimeSpan.FromSeconds(2), ct);
            return HealthCheckResult.Healthy("running");
        }
        catch (ActorNotFoundException)
        {
            return HealthCheckResult.Unhealthy("the lake coordinator is not running");
        }
    }

    private static async Task<HealthCheckResult> ReplicationAsync(ActorSystem system, ActorRegistry registry, CancellationToken ct)
    {
        if (!registry.TryGet<LakeDaemonActor>(out var daemon))
            return HealthCheckResult.Unhealthy("the daemon has not started");
        try
        {
            var health = await daemon.Ask<LakeDaemon.Health>(LakeDaemon.GetHealth.Instance, TimeSpan.FromSeconds(2), ct);
            return health.ReplicationDown is { } why ? HealthCheckResult.Unhealthy("replication is down: " + why) : HealthCheckResult.Healthy("running");
        }
        catch (AskTimeoutException)
        {
            return HealthCheckResult.Unhealthy("the daemon did not answer within 2 s");
        }
    }

    private static HealthCheckResult Readiness() => LakeMetrics.Latest?.Metrics switch
    {
        null => HealthCheckResult.Unhealthy("the lake is not open yet"),
        { NotReady: { } reason } => HealthCheckResult.Unhealthy(reason),
        _ => HealthCheckResult.Healthy("open and backfilled"),
    };

    private static HealthCheckResult Freshness(LakeSettings settings)
    {
        var problems = LakeStatus.FreshnessProblems(LakeMetrics.Latest?.Metrics.ComputedThroughTs,
            new ReplicationStateStore(settings.StatePath).Load(), settings.LateWindowHours, DateTimeOffset.UtcNow).ToList();
        return problems.Count > 0 ? HealthCheckResult.Degraded(string.Join("; ", problems)) : HealthCheckResult.Healthy("within the late window");
    }

    /// <summary>Answers <c>/healthz</c> (liveness and freshness) or <c>/readyz</c>: 200, or 503 when unhealthy, with the checks as JSON.</summary>
    public static async Task AnswerAsync(HealthCheckService health, HttpListenerContext context, CancellationToken ct)
    {
        var tag = context.Request.Url!.AbsolutePath.StartsWith("/readyz", StringComparison.Ordinal) ? Ready : Live;
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(tag), ct);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? 503 : 200;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.OutputStream, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: ct);
    }
}
