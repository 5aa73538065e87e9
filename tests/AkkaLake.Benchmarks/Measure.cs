using System.Diagnostics;

namespace AkkaLake.Benchmarks;

/// <summary>What a measured process did: its exit code, wall time, peak resident memory and output.</summary>
internal sealed record ProcessRun(int ExitCode, double Seconds, long PeakRssBytes, long LastRssBytes, string Output)
{
    public double PeakRssMb => PeakRssBytes / 1048576.0;
}

internal static class Measure
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static async Task<double> SecondsAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Runs a command to its end and samples its peak resident memory (Linux VmHWM, else the working set).</summary>
    public static ProcessRun Process(string file, IEnumerable<string> args) => Process(file, args, stopWhen: null, TimeSpan.MaxValue);

    /// <summary>
    /// Runs a command (a daemon) until <paramref name="stopWhen"/> holds, checked every second,
    /// then asks it to stop with SIGTERM and waits for its exit; past <paramref name="timeout"/> it is stopped all the same.
    /// </summary>
    public static ProcessRun Process(string file, IEnumerable<string> args, Func<bool>? stopWhen, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = System.Diagnostics.Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        long peak = 0, last = 0;
        var nextCheck = TimeSpan.FromSeconds(1);
        var stopAsked = false;
        while (!p.WaitForExit(50))
        {
            (peak, last) = Sample(p, peak, last);
            if (stopAsked || clock.Elapsed < nextCheck) continue;
            nextCheck = clock.Elapsed + TimeSpan.FromSeconds(1);
            if (clock.Elapsed > timeout || (stopWhen?.Invoke() ?? false))
            {
                stopAsked = true;
                System.Diagnostics.Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            }
        }
        return new ProcessRun(p.ExitCode, clock.Elapsed.TotalSeconds, peak, last, output.Result + error.Result);
    }

    private static (long Peak, long Last) Sample(System.Diagnostics.Process p, long peak, long last)
    {
        try
        {
            var status = $"/proc/{p.Id}/status";
            if (File.Exists(status))
            {
                foreach (var line in File.ReadLines(status))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Math.Max(peak, Kilobytes(line) * 1024);
                    else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) last = Kilobytes(line) * 1024;
                }
            }
            else
            {
                p.Refresh();
                peak = Math.Max(peak, p.PeakWorkingSet64);
                last = p.WorkingSet64;
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException)
        {
        }
        return (peak, last);
    }

    private static long Kilobytes(string statusLine) => long.Parse(statusLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
}
