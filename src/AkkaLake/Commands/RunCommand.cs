using System.CommandLine;
using AkkaLake.Actors.Replication;
using AkkaLake.Hosting;

namespace AkkaLake.Commands;

/// <summary><c>akkalake run [--once]</c>: the daemon, or one cycle of it for scripts and tests.</summary>
public static class RunCommand
{
    public static Command Create(GlobalOptions global)
    {
        var once = new Option<bool>("--once") { Description = "Do one cycle (backfill if needed, then one incremental batch) and exit." };
        var command = new Command("run", "Keep the lake in step with PostgreSQL until stopped (SIGTERM/SIGINT).") { once };
        command.SetAction(async (result, ct) =>
        {
            var settings = global.LoadSettings(result);
            using var logger = LakeLogging.Create(settings, console: result.InvocationConfiguration.Output == Console.Out);
            var outcome = await DaemonHost.RunAsync(settings, result.GetValue(once) ? new ReplicationJob.Once() : new ReplicationJob.Continuous(), logger, ct);
            if (!outcome.Succeeded)
                await result.InvocationConfiguration.Error.WriteLineAsync($"akkalake run failed: {outcome.Error}");
            return ExitCodes.Of(outcome);
        });
        return command;
    }
}
