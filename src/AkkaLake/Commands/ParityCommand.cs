using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AkkaLake.Configuration;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Operations;
using AkkaLake.Core.Source;
using Npgsql;

namespace AkkaLake.Commands;

/// <summary><c>akkalake parity --from T --to T [--sensor-ids a,b | --sample N] [--json] [--fail-on-mismatch]</c>.</summary>
public static class ParityCommand
{
    public static Command Create(GlobalOptions global)
    {
        var from = new Option<string>("--from") { Description = "Window start (RFC 3339 or YYYY-MM-DD, UTC).", Required = true };
        var to = new Option<string>("--to") { Description = "Window end, exclusive.", Required = true };
        var ids = new Option<string?>("--sensor-ids") { Description = "Only these sensors (comma-separated)." };
        var sample = new Option<int?>("--sample") { Description = "A random sample of N sensors." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var fail = new Option<bool>("--fail-on-mismatch") { Description = "Exit 1 when any sensor differs." };
        var command = new Command("parity", "Compare per-sensor counts, min/max ts and sum of value between PostgreSQL and the committed lake.") { from, to, ids, sample, json, fail };
        command.SetAction(async (result, ct) =>
        {
            var settings = global.LoadSettings(result);
            var window = (Parse("--from", result.GetValue(from)!), Parse("--to", result.GetValue(to)!));
            if (window.Item2 <= window.Item1)
                throw new BadInputException($"--to ({Timestamps.Format(window.Item2)}) must be after --from ({Timestamps.Format(window.Item1)}): the window [from, to) is empty.");
            if (result.GetValue(ids) is not null && result.GetValue(sample) is not null)
                throw new BadInputException("Give --sensor-ids or --sample, not both.");
            var manifest = ManifestStore.LoadLake(settings);
            await using var dataSource = NpgsqlDataSource.Create(Core.Source.DatabaseUrl.ConnectionStringOf(settings));
            var progress = result.GetValue(json) ? null : Progress.For(result.InvocationConfiguration.Error, "parity: reading the lake", "files");
            ParityReport report;
            try
            {
                report = await new ParityCheck(dataSource, settings.Roots)
                    .RunAsync(manifest, window.Item1, window.Item2, result.GetValue(ids)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), result.GetValue(sample), ct,
                        progress is null ? null : (done, total) => progress.Report(done, total));
            }
            catch (NpgsqlException e)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"PostgreSQL at {DatabaseUrl.Describe(dataSource.ConnectionString)} could not be queried: {e.Message}");
                return ExitCodes.Failed;
            }

            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { from = report.From, to = report.To, watermark = report.Watermark, mismatches = report.Mismatches, sensors = report.Sensors.Select(s => new { sensor_id = s.SensorId, matches = s.Matches, postgres = s.Postgres, lake = s.Lake }) }, LakeJson.Options));
            }
            else
            {
                output.WriteLine($"{"sensor",-24} {"pg rows",9} {"lake rows",9}  {"pg sum",14} {"lake sum",14}  status");
                foreach (var s in report.Sensors)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{s.SensorId,-24} {s.Postgres?.Rows ?? 0,9} {s.Lake?.Rows ?? 0,9}  {s.Postgres?.Sum ?? 0,14:G8} {s.Lake?.Sum ?? 0,14:G8}  {(s.Matches ? "ok" : "MISMATCH")}"));
                output.WriteLine($"{report.Sensors.Count} sensors compared for ts in [{Timestamps.Format(report.From)}, {Timestamps.Format(report.To)}), rows inserted up to the watermark {Timestamps.Format(report.Watermark)}: {report.Mismatches} mismatches.");
            }
            return report.Mismatches > 0 && result.GetValue(fail) ? ExitCodes.Mismatch : ExitCodes.Ok;
        });
        return command;
    }

    private static DateTimeOffset Parse(string option, string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new BadInputException($"{option} must be a timestamp (RFC 3339) or a date; got \"{value}\".");
}
