using AkkaLake.Commands;

namespace AkkaLake.Tests.Support;

public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Runs the real <c>akkalake</c> command line in-process and captures what it prints.</summary>
public static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Cli.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
