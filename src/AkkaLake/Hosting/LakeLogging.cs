using AkkaLake.Core.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace AkkaLake.Hosting;

/// <summary>
/// Structured logs: a readable console on standard output, plus a daily rolling file of compact
/// JSON (one event per line) under <c>${data_root}/logs/</c>. AKKALAKE_LOG_LEVEL sets the level
/// (default Information). Standard error is left to a failed command's one line.
/// </summary>
public static class LakeLogging
{
    public const string LevelVariable = "AKKALAKE_LOG_LEVEL";

    /// <param name="consoleMinimum">A higher level for the console alone, e.g. while a progress bar stands in for the routine lines.</param>
    public static Serilog.Core.Logger Create(LakeSettings settings, bool console = true, LogEventLevel consoleMinimum = LogEventLevel.Verbose)
    {
        var level = Enum.TryParse<LogEventLevel>(Environment.GetEnvironmentVariable(LevelVariable), ignoreCase: true, out var l) ? l : LogEventLevel.Information;
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // It logs every check that is not healthy at error level, a first backfill's "not ready" included; /healthz, /readyz and status say what the checks say, and the daemon logs its own states in words.
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Fatal)
            .Enrich.FromLogContext()
            .WriteTo.File(new CompactJsonFormatter(), LogFilePath(settings), rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14);
        if (console)
            configuration = configuration.WriteTo.Logger(toConsole => toConsole
                .Filter.ByExcluding(IsAkkaInternal)
                .WriteTo.Console(
                    restrictedToMinimumLevel: consoleMinimum,
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}"));
        return configuration.CreateLogger();
    }

    /// <summary>Akka.NET's own routine messages (start, shutdown phases, its exit code) mean nothing to an operator; the file keeps them.</summary>
    private static bool IsAkkaInternal(LogEvent e) =>
        e.Level < LogEventLevel.Warning
        && e.Properties.TryGetValue("SourceContext", out var source)
        && source is ScalarValue { Value: string name }
        && name.StartsWith("Akka.", StringComparison.Ordinal);

    public static string LogFilePath(LakeSettings settings) => Path.Combine(settings.DataRoot, "logs", "akkalake-.json");
}
