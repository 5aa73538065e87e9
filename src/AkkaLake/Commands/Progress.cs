using System.Diagnostics;
using System.Globalization;
using AkkaLake.Core.Telemetry;

namespace AkkaLake.Commands;

/// <summary>
/// Progress of a long command on its error stream, so its results can be redirected alone: a live
/// bar on a terminal (redrawn at most ten times a second), otherwise a plain line at most every
/// 10 s and at the end, so a log stays readable.
/// </summary>
public sealed class Progress
{
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LineEvery = TimeSpan.FromSeconds(10);
    private const int BarWidth = 24;

    private readonly TextWriter _output;
    private readonly string _what;
    private readonly string _unit;
    private readonly bool _terminal;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastWritten;
    private bool _barShown;

    public Progress(TextWriter output, string what, string unit, bool terminal)
    {
        _output = output;
        _what = what;
        _unit = unit;
        _terminal = terminal;
        // Off a terminal the first line waits its turn: quick work prints only its last.
        _lastWritten = terminal ? null : TimeSpan.Zero;
    }

    /// <summary>Progress on <paramref name="output"/>, drawn as a bar when it is a terminal.</summary>
    public static Progress For(TextWriter output, string what, string unit) =>
        new(output, what, unit, (output == Console.Out && !Console.IsOutputRedirected) || (output == Console.Error && !Console.IsErrorRedirected));

    /// <summary>
    /// A bar for work the daemon does a day at a time, when <paramref name="output"/> is a terminal;
    /// null elsewhere, where the daemon's progress lines (every 10 s at most) say the same.
    /// </summary>
    public static Progress? DaysOnTerminal(TextWriter output, string what) =>
        For(output, what, "days") is { _terminal: true } bar ? bar : null;

    public void Report(DaysProgress progress) => Report(progress.DaysDone, progress.DaysTotal, progress.Rows);

    /// <param name="rows">Rows handled so far, when the work is counted in rows too: the rate is then rows/s.</param>
    public void Report(long done, long total, long? rows = null)
    {
        if (total <= 0) return;
        var elapsed = _clock.Elapsed;
        var last = done >= total;
        if (!last && _lastWritten is { } previous && elapsed - previous < (_terminal ? RedrawEvery : LineEvery)) return;
        _lastWritten = elapsed;
        var line = Line(_what, _unit, done, total, rows, elapsed, _terminal ? BarWidth : null);
        if (_terminal)
        {
            _output.Write("\r\u001b[K" + line + (last ? Environment.NewLine : ""));
            _barShown = !last;
        }
        else
        {
            _output.WriteLine(line);
        }
    }

    /// <summary>Writes a result line to <paramref name="writer"/> without it running into the bar; the next report draws the bar again.</summary>
    public void WriteLine(TextWriter writer, string line)
    {
        if (_barShown) _output.Write("\r\u001b[K");
        _barShown = false;
        if (_terminal) _lastWritten = null;
        writer.WriteLine(line);
    }

    /// <summary>One progress line: what, an optional bar, done/total, rows, rate and the time left at that rate.</summary>
    public static string Line(string what, string unit, long done, long total, long? rows, TimeSpan elapsed, int? barWidth)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var fraction = Math.Clamp((double)done / total, 0, 1);
        var bar = barWidth is { } width
            ? " [" + new string('#', (int)Math.Round(fraction * width)).PadRight(width, '-') + "]"
            : ":";
        var rate = rows is { } r
            ? $"{r:N0} rows, {r / seconds:N0} rows/s"
            : $"{done / seconds:0.#} {unit}/s";
        var left = done >= total ? $"done in {Clock(elapsed)}"
            : done == 0 ? "time left unknown"
            : $"about {Clock(TimeSpan.FromSeconds(seconds / done * (total - done)))} left";
        return string.Create(CultureInfo.InvariantCulture, $"{what}{bar} {done}/{total} {unit}, {rate}, {left}");
    }

    private static string Clock(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
