using System.Diagnostics;

namespace AkkaLake.Commands;

/// <summary>
/// Progress of a long command: an updating line (done/total, rate, ETA) on a terminal, and a
/// plain line every 10% otherwise, so logs stay readable.
/// </summary>
public sealed class Progress(TextWriter output, string what, bool terminal)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _lastDecile = -1;

    /// <summary>Progress written to <paramref name="output"/> (a command's error stream, so its results can be redirected alone).</summary>
    public static Progress For(TextWriter output, string what) =>
        new(output, what, (output == Console.Out && !Console.IsOutputRedirected) || (output == Console.Error && !Console.IsErrorRedirected));

    public void Report(int done, int total)
    {
        if (total == 0) return;
        var rate = done / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var line = $"{what}: {done}/{total} ({rate:0.#}/s, ETA {eta:mm\\:ss})";
        if (terminal)
        {
            output.Write("\r" + line + (done == total ? Environment.NewLine : ""));
            return;
        }
        var decile = done * 10 / total;
        if (decile == _lastDecile) return;
        _lastDecile = decile;
        output.WriteLine(line);
    }
}
