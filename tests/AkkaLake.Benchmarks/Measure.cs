using System.Diagnostics;

namespace AkkaLake.Benchmarks;

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

    /// <summary>Runs a command and samples its peak resident memory (Linux VmHWM, else the last working set).</summary>
    public static (int ExitCode, double Seconds, long PeakRssBytes, string Output) Process(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = System.Diagnostics.Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!p.WaitForExit(50))
        {
            try
            {
                var status = $"/proc/{p.Id}/status";
                if (File.Exists(status))
                {
                    var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                    if (line is not null) peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);
                }
                else
                {
                    p.Refresh();
                    peak = Math.Max(peak, p.PeakWorkingSet64);
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or FormatException)
            {
            }
        }
        return (p.ExitCode, clock.Elapsed.TotalSeconds, peak, output.Result + error.Result);
    }
}
