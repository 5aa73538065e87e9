using System.CommandLine;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Commands;

/// <summary>The <c>akkalake</c> command line. Known failures become one clear line and an exit code.</summary>
public static class Cli
{
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("AkkaLake keeps a Parquet analysis lake in step with the controller's PostgreSQL metrics.");
        global.AddTo(root);
        root.Subcommands.Add(InspectCommand.Create(global));
        root.Subcommands.Add(StatusCommand.Create(global));
        root.Subcommands.Add(RunCommand.Create(global));
        root.Subcommands.Add(BackfillCommand.Create(global));
        root.Subcommands.Add(CompactCommand.Create(global));
        root.Subcommands.Add(MovePartitionCommand.Create(global));
        root.Subcommands.Add(SqlCommand.Create(global));
        root.Subcommands.Add(ParityCommand.Create(global));
        root.Subcommands.Add(VerifyCommand.Create(global));
        root.Subcommands.Add(ReconcileCommand.Create(global));
        root.Subcommands.Add(DemoCommand.Create(global));
        return root;
    }

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var configuration = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        try
        {
            var parsed = Build().Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // A command line that does not parse is bad input, not a finding of verify or parity (exit 1): one line, the problem that says most.
                var problem = parsed.Errors.FirstOrDefault(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parsed.Errors[0];
                configuration.Error.WriteLine($"{problem.Message.TrimEnd('.')}; see akkalake --help.");
                return ExitCodes.BadInput;
            }
            return parsed.Invoke(configuration);
        }
        catch (Exception e) when (e is SettingsException or BadInputException or LakeLockedException or ManifestUnreadableException or InvalidOperationException)
        {
            // Known failures are one clear line for the operator, not a stack trace.
            configuration.Error.WriteLine(e.Message);
            return e switch
            {
                SettingsException or BadInputException => ExitCodes.BadInput,
                LakeLockedException => ExitCodes.LakeBusy,
                _ => ExitCodes.Failed,
            };
        }
    }
}
