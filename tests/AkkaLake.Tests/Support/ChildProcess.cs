using System.Diagnostics;

namespace AkkaLake.Tests.Support;

/// <summary>Runs a short command (mount, chown, runuser …) to its end and returns its exit code and everything it printed.</summary>
public static class ChildProcess
{
    public static (int ExitCode, string Output) Run(string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            throw new TimeoutException($"{file} did not finish within 2 minutes");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
