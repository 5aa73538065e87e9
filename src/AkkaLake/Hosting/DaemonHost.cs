using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Akka.Logger.Serilog;
using AkkaLake.Actors;
using AkkaLake.Actors.Daemon;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Configuration;
using AkkaLake.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using AkkaLake.Core.Telemetry;
using Serilog;

namespace AkkaLake.Hosting;

/// <summary>
/// Hosts the actor system with Akka.Hosting inside a Microsoft.Extensions.Hosting host, which
/// turns SIGTERM/SIGINT into an orderly shutdown.
/// </summary>
public static class DaemonHost
{
    private sealed class DaemonExit(int exitCode) : CoordinatedShutdown.Reason
    {
        public override int ExitCode => exitCode;

        public override string ToString() => exitCode == 0 ? "the daemon is done" : "the daemon failed";
    }

    private static string AkkaLevel(Serilog.ILogger logger) =>
        logger.IsEnabled(Serilog.Events.LogEventLevel.Debug) ? "DEBUG" : logger.IsEnabled(Serilog.Events.LogEventLevel.Information) ? "INFO" : "WARNING";

    /// <summary>
    /// The AkkaLake meter exported by OpenTelemetry: over OTLP when the standard
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set, as Prometheus text on a loopback port when one is given.
    /// Nothing is set up otherwise (dotnet-counters reads the meter without any of it).
    /// </summary>
    private static void AddMetricsExport(IServiceCollection services, LakeSettings settings)
    {
        var otlp = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 };
        if (!otlp && settings.MetricsPort is null) return;
        var version = typeof(DaemonHost).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService("akkalake", serviceVersion: version)
                .AddAttributes([new("akkalake.lake.path", settings.HotPath)]))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(LakeMetrics.MeterName);
                if (otlp) metrics.AddOtlpExporter();
                if (settings.MetricsPort is { } port)
                    metrics.AddPrometheusHttpListener(o => { o.Host = "127.0.0.1"; o.Port = port; });
            });
    }

    /// <summary>Lets the coordinator finish the commit under way and release the lake before the actor system stops.</summary>
    private static async Task DrainAsync(ActorRegistry registry, Serilog.ILogger logger)
    {
        if (!registry.TryGet<LakeDaemonActor>(out var daemon)) return;
        try
        {
            await daemon.Ask<LakeDaemon.Drained>(Actors.Coordinator.CoordinatorProtocol.Drain.Instance, TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            logger.Warning("The lake coordinator did not finish its work within 30 s of the stop; an unfinished commit is undone when the lake opens again");
        }
    }

    /// <summary>Tells <c>akkalake status</c> whether replication runs, off the actor thread that reports it, in the order reported.</summary>
    private static void SaveDaemonState(SerialWork writes, LakeSettings settings, string? replicationDown, Serilog.ILogger logger) =>
        writes.Then(() =>
        {
            try
            {
                new Core.State.DaemonState(Environment.ProcessId, DateTimeOffset.UtcNow, replicationDown).Save(settings.StatePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.Warning("Could not write {File}: {Error}", Core.State.DaemonState.FileName, e.Message);
            }
        });

    public static async Task<DaemonOutcome> RunAsync(LakeSettings settings, ReplicationJob job, Serilog.ILogger logger, CancellationToken ct,
        IFaultPoints? faults = null, Action<DaysProgress>? onProgress = null)
    {
        // Before any actor starts: a missing or malformed database setting is one line, never its value.
        Core.Source.DatabaseUrl.ConnectionStringOf(settings);

        var outcome = new TaskCompletionSource<DaemonOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stateWrites = new SerialWork();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger);
        builder.Services.AddSingleton<SignalLifetime>();
        builder.Services.AddSingleton<IHostLifetime>(sp => sp.GetRequiredService<SignalLifetime>());
        // A hosted service that fails is its own problem (the status page starts its listener again); it never stops the daemon.
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        faults ??= EnvironmentFaults.FromEnvironment();
        AddMetricsExport(builder.Services, settings);
        LakeHealth.Add(builder.Services);
        StatusEndpoint.Add(builder.Services, settings, logger, faults);
        builder.Services.AddAkka("akkalake", (akka, _) =>
        {
            akka.ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLogger<SerilogLogger>();
                })
                .WithLakeHealthChecks(settings)
                // The host turns SIGTERM into an orderly stop (the coordinator drains first); Akka's own hook would stop the actors under it.
                // Akka's own console lines (before its logger starts, after it stops) only when they are warnings.
                .AddHocon($"akka.coordinated-shutdown.exit-clr = off\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off\nakka.loglevel = {AkkaLevel(logger)}\nakka.stdout-loglevel = WARNING", HoconAddMode.Prepend)
                .AddLakeDaemon(settings, job, new DaemonListener(o => outcome.TrySetResult(o), onProgress, down => SaveDaemonState(stateWrites, settings, down, logger)),
                    faults);
        });

        // Akka's Serilog logger writes to the static logger; it gets ours plus the drain.
        var drain = new LogDrain();
        var previous = Log.Logger;
        using var akkaLogger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Logger(logger).WriteTo.Sink(drain).CreateLogger();
        Log.Logger = akkaLogger;
        using var host = builder.Build();
        try
        {
            await host.StartAsync(ct);
            var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var registration = stopping.Register(() => stopped.TrySetResult());
            await using var cancel = ct.Register(() => stopped.TrySetResult());
            var first = await Task.WhenAny(outcome.Task, stopped.Task);
            var system = host.Services.GetRequiredService<ActorSystem>();
            var askedBy = host.Services.GetRequiredService<SignalLifetime>().AskedBy;
            var result = first == outcome.Task ? outcome.Task.Result : DaemonStop.Outcome(askedBy, ct.IsCancellationRequested, system.WhenTerminated.IsCompleted);

            const string marker = "AkkaLake is stopping";
            var drained = drain.Expect(marker);
            Logging.GetLogger(system, typeof(DaemonHost)).Info(marker + ": {Reason}",
                result.Succeeded ? (first == outcome.Task ? "the job is done" : $"asked to stop ({askedBy ?? "by its caller"})") : $"the run failed: {result.Error}");
            // Akka logs through an actor: under load its queue can take seconds to reach the sinks.
            await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(20), CancellationToken.None));
            await DrainAsync(host.Services.GetRequiredService<ActorRegistry>(), logger);
            // Run the shutdown with the process's exit code, so Akka's own last line agrees with it.
            await CoordinatedShutdown.Get(system)
                .Run(new DaemonExit(result.Succeeded ? Commands.ExitCodes.Ok : Commands.ExitCodes.Failed));
            // Stopped actors cancelled their file work; a part half-written finishes or fails and deletes its .tmp.
            if (!await WriteLimits.For(system).WhenIdleAsync(TimeSpan.FromSeconds(30)))
                logger.Warning("File work was still under way when AkkaLake stopped: {Work}; the next start removes what it leaves", WriteLimits.For(system).Describe(DateTimeOffset.UtcNow));
            await host.StopAsync(CancellationToken.None);
            return result;
        }
        finally
        {
            Log.Logger = previous;
        }
    }
}
