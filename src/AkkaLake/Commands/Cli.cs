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
        root.Subcommands.Add(RunCommand.Create(global));
        root.Subcommands.Add(BackfillCommand.Create(global));
        root.Subcommands.Add(CompactCommand.Create(global));
        root.Subcommands.Add(MovePartitionCommand.Create(global));
        root.Subcommands.Add(SqlCommand.Create(global));
        root.Subcommands.Add(DemoCommand.Create());
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
            return Build().Parse(args).Invoke(configuration);
        }
        catch (SettingsException e)
        {
            configuration.Error.WriteLine(e.Message);
            return ExitCodes.BadConfiguration;
        }
        catch (LakeLockedException e)
        {
            configuration.Error.WriteLine(e.Message);
            return ExitCodes.LakeBusy;
        }
        catch (ManifestUnreadableException e)
        {
            configuration.Error.WriteLine(e.Message);
            return ExitCodes.Failed;
        }
        catch (InvalidOperationException e)
        {
            configuration.Error.WriteLine(e.Message);
            return ExitCodes.Failed;
        }
    }
}
