using System.Net;
using System.Text;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Status;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using AkkaLake.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace AkkaLake.Hosting;

/// <summary>
/// The daemon's page on the metrics port, beside the Prometheus exporter's <c>/metrics</c>: <c>/</c>
/// the status page, <c>/status.json</c> the document it draws (the shape of <c>status --json</c>),
/// <c>/healthz</c> and <c>/readyz</c> the health checks. It samples the lag every 10 s into a
/// bounded hour of history, which only the running daemon can know.
/// </summary>
public sealed class StatusEndpoint(LakeSettings settings, HealthCheckService health, int port, Serilog.ILogger logger, IFaultPoints faults) : BackgroundService
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);
    private readonly LagHistory _lag = LagHistory.LastHour();

    public static void Add(IServiceCollection services, LakeSettings settings, Serilog.ILogger logger, IFaultPoints faults)
    {
        if (settings.MetricsPort is { } port)
            services.AddHostedService(sp => new StatusEndpoint(settings, sp.GetRequiredService<HealthCheckService>(), port, logger, faults));
    }

    /// <summary>
    /// Serves until the daemon stops. Nothing here may stop the daemon: a request that fails is
    /// answered 500 and logged, and a listener that fails is started again.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sampling = SampleAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.Warning(e, "The status page's listener on port {Port} failed: {Error}; it starts again in {DelaySeconds} s", port, e.Message, RelistenDelay.TotalSeconds);
                await Task.Delay(RelistenDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        await sampling;
    }

    private static readonly TimeSpan RelistenDelay = TimeSpan.FromSeconds(5);

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        // On Unix, HttpListeners of one process share a port by path prefix, the longest winning: /metrics/ stays the exporter's.
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        await using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (stoppingToken.IsCancellationRequested && e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            // Each request on its own: a slow page never holds up a health check.
            _ = AnswerAsync(context, stoppingToken);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken ct)
    {
        var response = context.Response;
        var path = "?";
        try
        {
            path = context.Request.Url?.AbsolutePath ?? "?";
            if (path.StartsWith("/healthz", StringComparison.Ordinal) || path.StartsWith("/readyz", StringComparison.Ordinal))
            {
                await LakeHealth.AnswerAsync(health, context, ct);
                return;
            }
            if (path is not ("/" or "/status.json"))
            {
                response.StatusCode = 404;
                return;
            }
            // Read from the lake's files and log off the request thread: a slow disk delays a page, never the daemon.
            var status = await Task.Run(() =>
            {
                faults.Hit("status.page");
                return StatusPage.Take(settings, DateTimeOffset.UtcNow, _lag.Snapshot());
            }, ct);
            var (body, type) = path == "/" ? (StatusPage.Html(status), "text/html; charset=utf-8") : (StatusPage.Json(status), "application/json");
            response.ContentType = type;
            response.Headers["Cache-Control"] = "no-store";
            var bytes = Encoding.UTF8.GetBytes(body);
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
        }
        catch (Exception e)
        {
            if (!ct.IsCancellationRequested)
                logger.Warning("The status page could not answer {Path}: {Error}", path, e.Message);
            try
            {
                response.StatusCode = 500;
            }
            catch (Exception)
            {
                // Headers already sent, or the client gone: nothing more to say to it.
            }
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception)
            {
                // The client hung up.
            }
        }
    }

    private async Task SampleAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SampleEvery);
        do
        {
            if (LakeMetrics.Latest?.Metrics.ComputedThroughTs is { } watermark)
            {
                var now = DateTimeOffset.UtcNow;
                _lag.Add(new LagPoint(now, Math.Max(0, (now - watermark).TotalSeconds)));
            }
        }
        while (await NextAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
