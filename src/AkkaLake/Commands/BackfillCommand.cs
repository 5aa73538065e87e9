using System.CommandLine;
using System.Globalization;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Hosting;
using Serilog.Events;

namespace AkkaLake.Commands;

/// <summary><c>akkalake backfill --days N | --from D --to D [--replace]</c>: rebuild days by hand, with the daemon stopped.</summary>
public static class BackfillCommand
{
    public static Command Create(GlobalOptions global)
    {
        var days = new Option<int?>("--days") { Description = "The last N days, today included." };
        var from = new Option<string?>("--from") { Description = "First day (YYYY-MM-DD, UTC)." };
        var to = new Option<string?>("--to") { Description = "Last day (YYYY-MM-DD, UTC)." };
        var replace = new Option<bool>("--replace") { Description = "Rebuild days that already hold files, replacing them." };
        var command = new Command("backfill", "Rebuild whole days from PostgreSQL as of the watermark (needs the daemon stopped).") { days, from, to, replace };
        command.SetAction(async (result, ct) =>
        {
            var settings = global.LoadSettings(result);
            var (first, last) = Range(result.GetValue(days), result.GetValue(from), result.GetValue(to));
            var bar = Progress.DaysOnTerminal(result.InvocationConfiguration.Error, "backfill");
            using var logger = LakeLogging.Create(settings, console: result.InvocationConfiguration.Output == Console.Out,
                consoleMinimum: bar is null ? LogEventLevel.Verbose : LogEventLevel.Warning);
            var outcome = await DaemonHost.RunAsync(settings, new ReplicationJob.Backfill(first, last, result.GetValue(replace)), logger, ct,
                onProgress: bar is null ? null : bar.Report);
            if (!outcome.Succeeded)
                await result.InvocationConfiguration.Error.WriteLineAsync($"akkalake backfill failed: {outcome.Error}");
            return ExitCodes.Of(outcome);
        });
        return command;
    }

    private static (DateOnly From, DateOnly To) Range(int? days, string? from, string? to)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        if (days is { } n)
        {
            if (from is not null || to is not null)
                throw new BadInputException("Give either --days or --from/--to, not both.");
            if (n < 1) throw new BadInputException($"--days must be at least 1; got {n}.");
            return (today.AddDays(1 - n), today);
        }
        if (from is null || to is null)
            throw new BadInputException("Give --days N, or both --from and --to.");
        return (ParseDay("--from", from), ParseDay("--to", to));
    }

    internal static DateOnly ParseDay(string option, string value) =>
        Core.Layout.LakeLayout.TryParseDateKey(value)
            ?? throw new BadInputException($"{option} must be a date as YYYY-MM-DD; got \"{value}\".");
}
