using System.CommandLine;
using System.Globalization;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Retention;

namespace AkkaLake.Commands;

/// <summary><c>akkalake move-partition --date D --to hot|cold</c>: the retention move by hand, same protocol.</summary>
public static class MovePartitionCommand
{
    public static Command Create(GlobalOptions global)
    {
        var date = new Option<string>("--date") { Description = "The partition's date (YYYY-MM-DD).", Required = true };
        var to = new Option<string>("--to") { Description = "hot or cold.", Required = true };
        to.AcceptOnlyFromAmong([.. LakeLocation.All.Select(l => l.Name)]);
        var command = new Command("move-partition", "Move one partition between the hot and cold paths (copy, verify, commit, then delete; needs the daemon stopped).") { date, to };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var raw = result.GetValue(date)!;
            var day = LakeLayout.TryParseDateKey(raw)
                ?? throw new BadInputException($"--date must be YYYY-MM-DD; got \"{raw}\".");
            var target = LakeLocation.Parse(result.GetValue(to)!);
            using var lake = OfflineLake.Open(settings, "move-partition");
            var partition = lake.Manifest.Partition(day)
                ?? throw new BadInputException($"The lake has no partition {raw}.");
            if (partition.Location == target)
            {
                result.InvocationConfiguration.Output.WriteLine($"{raw} is already {target}.");
                return ExitCodes.Ok;
            }
            try
            {
                var copied = new PartitionCopier(lake.Roots).Copy(lake.Manifest, day, partition.Location, target);
                lake.Manifest = new LakeChanges(settings, lake.Store, Hosting.EnvironmentFaults.FromEnvironment()).Move(lake.Manifest, day, partition.Location, target, copied);
            }
            catch (Exception e) when (e is LocationUnavailableException or IOException)
            {
                // Nothing was switched: copies already made are unreferenced and go at the next recovery.
                result.InvocationConfiguration.Error.WriteLine($"{raw} stays {partition.Location}: {e.Message}");
                return ExitCodes.Failed;
            }
            result.InvocationConfiguration.Output.WriteLine($"Moved {raw} to {target}: {partition.FileCount} files, {partition.Bytes:N0} bytes. {(settings.DeleteGrace > TimeSpan.Zero ? "The old copy, out of readers' sight, is deleted after the grace period." : "The old copy is deleted.")}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
