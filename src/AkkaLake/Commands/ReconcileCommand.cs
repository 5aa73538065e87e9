using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AkkaLake.Actors.Replication;
using AkkaLake.Configuration;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Reconciliation;
using AkkaLake.Core.Source;
using AkkaLake.Hosting;
using Npgsql;
using Serilog.Events;

namespace AkkaLake.Commands;

/// <summary>
/// <c>akkalake reconcile [--from D --to D] [--dry-run] [--json]</c>: one pass of the daemon's
/// check by hand, then (unless a dry run) the rebuild of every day that differs.
/// </summary>
public static class ReconcileCommand
{
    public static Command Create(GlobalOptions global)
    {
        var from = new Option<string?>("--from") { Description = "First day to check (YYYY-MM-DD, UTC); cold days too when given. Default: every hot day." };
        var to = new Option<string?>("--to") { Description = "Last day to check (YYYY-MM-DD, UTC)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what differs (works while the daemon runs); exit 1 when something does." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("reconcile", "Check days against PostgreSQL (rows and a checksum per sensor) and rebuild those that differ (needs the daemon stopped unless --dry-run).")
            { from, to, dryRun, json };
        command.SetAction(async (result, ct) =>
        {
            var settings = global.LoadSettings(result);
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var manifest = ManifestStore.LoadLake(settings);
            var watermark = manifest.Metrics.ReadyWatermark;
            var days = DaysToCheck(manifest, settings, result.GetValue(from), result.GetValue(to), error);

            var checks = new List<DayCheck>();
            await using (var dataSource = NpgsqlDataSource.Create(Core.Source.DatabaseUrl.ConnectionStringOf(settings)))
            {
                var reconciler = new Reconciler(dataSource, settings.Roots);
                var progress = result.GetValue(json) ? null : Progress.For(error, "reconcile: checking", "days");
                try
                {
                    foreach (var day in days)
                    {
                        checks.Add(await reconciler.CheckAsync(manifest, day, ct));
                        progress?.Report(checks.Count, days.Count);
                    }
                }
                catch (NpgsqlException e)
                {
                    await error.WriteLineAsync($"PostgreSQL at {DatabaseUrl.Describe(dataSource.ConnectionString)} could not be queried: {e.Message}");
                    return ExitCodes.Failed;
                }
            }

            var differing = checks.Where(c => c.Differs).Select(c => c.Day).ToList();
            var rebuild = differing.Count > 0 && !result.GetValue(dryRun);
            if (result.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(new { watermark, days = checks, rebuilding = rebuild ? differing : [] }, LakeJson.Options));
            else
                Print(output, checks, watermark);
            if (differing.Count == 0) return ExitCodes.Ok;
            if (!rebuild) return ExitCodes.Mismatch;

            var bar = result.GetValue(json) ? null : Progress.DaysOnTerminal(error, "reconcile: rebuilding");
            using var logger = LakeLogging.Create(settings, console: !result.GetValue(json) && output == Console.Out,
                consoleMinimum: bar is null ? LogEventLevel.Verbose : LogEventLevel.Warning);
            var outcome = await DaemonHost.RunAsync(settings, new ReplicationJob.Rebuild(differing), logger, ct, onProgress: bar is null ? null : bar.Report);
            if (!outcome.Succeeded)
            {
                await error.WriteLineAsync($"akkalake reconcile could not rebuild the days that differ: {outcome.Error}");
                return ExitCodes.Of(outcome);
            }
            if (!result.GetValue(json))
                output.WriteLine($"Rebuilt {differing.Count} days from PostgreSQL: {string.Join(", ", differing.Select(LakeLayout.DateKey))}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every hot day by default; with a range, its days the lake holds (cold ones only where the cold path is known).</summary>
    private static List<DateOnly> DaysToCheck(LakeManifest manifest, LakeSettings settings, string? from, string? to, TextWriter error)
    {
        if ((from is null) != (to is null))
            throw new BadInputException("Give both --from and --to, or neither (every hot day).");
        var partitions = manifest.Metrics.Partitions.Select(p => (Day: LakeLayout.ParseDateKey(p.Key), p.Value.Location));
        if (from is null)
            return [.. partitions.Where(p => p.Location == LakeLocation.Hot).Select(p => p.Day).OrderDescending()];
        var (first, last) = (BackfillCommand.ParseDay("--from", from), BackfillCommand.ParseDay("--to", to!));
        if (last < first)
            throw new BadInputException($"--to {to} is before --from {from}.");
        var inRange = partitions.Where(p => p.Day >= first && p.Day <= last).ToList();
        var unreachable = inRange.Count(p => p.Location == LakeLocation.Cold && settings.ColdPath is null);
        if (unreachable > 0)
            error.WriteLine($"{unreachable} cold days in the range are not checked: no cold path is configured (--cold-path / CORE_ANALYSIS_LAKE_COLD_PATH).");
        return [.. inRange.Where(p => p.Location == LakeLocation.Hot || settings.ColdPath is not null).Select(p => p.Day).OrderDescending()];
    }

    private static void Print(TextWriter output, IReadOnlyList<DayCheck> checks, DateTimeOffset watermark)
    {
        foreach (var c in checks)
        {
            if (!c.Differs)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{LakeLayout.DateKey(c.Day)}  ok       {c.LakeRows,12:N0} rows"));
                continue;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{LakeLayout.DateKey(c.Day)}  DIFFERS  PostgreSQL {c.SourceRows:N0} rows, lake {c.LakeRows:N0} rows"));
            foreach (var s in c.Shards)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"            shard {LakeLayout.ShardKey(s.Shard)}: PostgreSQL {s.SourceRows:N0} rows, lake {s.LakeRows:N0}; {s.SensorsDiffering} sensors differ (e.g. {s.ExampleSensor})"));
        }
        var differing = checks.Count(c => c.Differs);
        output.WriteLine($"{checks.Count} days checked against rows inserted up to the watermark {Timestamps.Format(watermark)}: {(differing == 0 ? "all agree" : $"{differing} differ")}.");
    }
}
