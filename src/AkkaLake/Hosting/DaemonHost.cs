using Akka.Hosting;
using Akka.Logger.Serilog;
using AkkaLake.Actors.Daemon;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace AkkaLake.Hosting;

/// <summary>
/// Hosts the actor system with Akka.Hosting inside a Microsoft.Extensions.Hosting host, which
/// turns SIGTERM/SIGINT into an orderly shutdown.
/// </summary>
public static class DaemonHost
{
    public static async Task<DaemonOutcome> RunAsync(LakeSettings settings, ReplicationJob job, Serilog.ILogger logger, CancellationToken ct, IFaultPoints? faults = null)
    {
        if (settings.DatabaseUrl is null)
            throw new SettingsException(["No database is configured: pass --database-url, set CORE_DATABASE_URL, or put database_url in setup/config.json under the data root."]);

        var outcome = new TaskCompletionSource<DaemonOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddAkka("akkalake", (akka, _) =>
        {
            akka.ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLogger<SerilogLogger>();
                })
                .AddHocon("akka.coordinated-shutdown.exit-clr = off", HoconAddMode.Prepend)
                .AddLakeDaemon(settings, job, o => outcome.TrySetResult(o), faults);
        });

        var previous = Log.Logger;
        Log.Logger = logger;
        using var host = builder.Build();
        try
        {
            await host.StartAsync(ct);
            var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var registration = stopping.Register(() => stopped.TrySetResult());
            await using var cancel = ct.Register(() => stopped.TrySetResult());
            var first = await Task.WhenAny(outcome.Task, stopped.Task);
            await host.StopAsync(CancellationToken.None);
            return first == outcome.Task ? outcome.Task.Result : new DaemonOutcome(true, null);
        }
        finally
        {
            Log.Logger = previous;
        }
    }
}
