using System.Diagnostics;

namespace AkkaLake.Benchmarks;

/// <summary>
/// Runs the benchmark again under libfaketime with the clock moved to a UTC time of day: one fixed
/// offset in the environment, so the benchmark, the PostgreSQL it starts and the daemons it runs
/// all read the same moved clock. Monotonic clocks are left alone (timers keep working).
/// </summary>
internal static class FakeClock
{
    public const string Library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    /// <summary>Null when this process already runs at the clock asked for (or none was asked); else the exit code of the run under the moved clock.</summary>
    public static int? RunAt(TimeOnly? at, string[] args)
    {
        if (at is not { } time || Environment.GetEnvironmentVariable("FAKETIME") is { Length: > 0 }) return null;
        if (!File.Exists(Library)) throw new InvalidOperationException($"--at needs libfaketime ({Library}; Debian: apt-get install faketime).");
        var now = DateTimeOffset.UtcNow;
        var target = new DateTimeOffset(DateOnly.FromDateTime(now.UtcDateTime).ToDateTime(time), TimeSpan.Zero);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(FakeClock).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["FAKETIME"] = $"{(long)(target - now).TotalSeconds:+0;-0}";
        start.Environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
        // Its "monotonic fix", on by default with glibc, ends .NET's timed waits at once: idle
        // thread-pool workers exit and are created again hundreds of times a second, and a daemon
        // at 5 % of a core measured 82 %.
        start.Environment["FAKETIME_FORCE_MONOTONIC_FIX"] = "0";
        start.Environment["LD_PRELOAD"] = Library;
        Console.WriteLine($"running at {target:yyyy-MM-dd HH:mm} UTC (libfaketime, FAKETIME={start.Environment["FAKETIME"]})");
        using var run = Process.Start(start)!;
        run.WaitForExit();
        return run.ExitCode;
    }
}
