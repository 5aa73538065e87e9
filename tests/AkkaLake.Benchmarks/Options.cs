using System.Globalization;

namespace AkkaLake.Benchmarks;

/// <param name="Rows">Readings to generate; <c>--days N</c> sets it to N days of every sensor at the cadence.</param>
/// <param name="BySensor">The table stores each sensor's history together (a bulk import), instead of in time order.</param>
/// <param name="Jitter">Readings off the cadence's exact instants, each sensor at its own phase, as real sensors report.</param>
/// <param name="Phases">Which parts run: backfill (with the reads right after it), memory, incremental, day; and formats (encodings against DuckDB's reader, after the reads) and steady (the daemon's life after its backfill) when asked.</param>
/// <param name="Steady">The steady phase's share of re-sent readings, how far back they lie, and how long it runs.</param>
/// <param name="At">The UTC time of day the run starts at (libfaketime), so that today's partition holds as much as it does then; null: the real clock.</param>
/// <param name="Noisy">Readings with noise, two decimals, as real sensors report (the steady phase's, always); else a smooth curve.</param>
/// <param name="Streams">The daemon's <c>backfill-streams</c>; null: its default.</param>
internal sealed record Options(long Rows, int Sensors, int Cadence, int Runs, string? DatabaseUrl, string? Out, bool BySensor, bool Jitter, IReadOnlySet<string> Phases, SteadyKnobs Steady, TimeOnly? At, bool Noisy, int? Streams)
{
    public static readonly string[] AllPhases = ["backfill", "memory", "incremental", "day"];

    /// <summary>Phases run only when asked for.</summary>
    public static readonly string[] ExtraPhases = ["formats", "steady"];

    public bool Includes(string phase) => Phases.Contains(phase);

    public string Order => BySensor ? "sensor" : "time";

    public static Options Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var sensors = int.Parse(Value("--sensors") ?? "500", CultureInfo.InvariantCulture);
        var cadence = int.Parse(Value("--cadence") ?? "30", CultureInfo.InvariantCulture);
        var rows = Value("--days") is { } days
            ? (long)(double.Parse(days, CultureInfo.InvariantCulture) * 86_400 / cadence) * sensors
            : long.Parse(Value("--rows") ?? "10000000", CultureInfo.InvariantCulture);
        var order = Value("--order") ?? "time";
        if (order is not ("time" or "sensor")) throw new ArgumentException($"--order is time or sensor; got {order}.");
        var phases = (Value("--phases") ?? string.Join(',', AllPhases)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        if (phases.Except(AllPhases).Except(ExtraPhases).FirstOrDefault() is { } unknown) throw new ArgumentException($"--phases takes {string.Join(", ", AllPhases.Concat(ExtraPhases))}; got {unknown}.");
        return new Options(
            rows,
            sensors,
            cadence,
            int.Parse(Value("--runs") ?? "3", CultureInfo.InvariantCulture),
            Value("--database-url"),
            Value("--out"),
            order == "sensor",
            args.Contains("--jitter"),
            phases,
            new SteadyKnobs(
                double.Parse(Value("--resent") ?? "0", CultureInfo.InvariantCulture),
                Duration(Value("--resent-within") ?? "2h"),
                TimeSpan.FromMinutes(double.Parse(Value("--minutes") ?? "10", CultureInfo.InvariantCulture))),
            Value("--at") is { } at ? TimeOnly.Parse(at, CultureInfo.InvariantCulture) : null,
            args.Contains("--noisy") || phases.Contains("steady"),
            Value("--streams") is { } streams ? int.Parse(streams, CultureInfo.InvariantCulture) : null);
    }

    /// <summary>"5m", "2h" or seconds.</summary>
    private static TimeSpan Duration(string text) => text[^1] switch
    {
        'h' => TimeSpan.FromHours(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
        'm' => TimeSpan.FromMinutes(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
        _ => TimeSpan.FromSeconds(double.Parse(text.TrimEnd('s'), CultureInfo.InvariantCulture)),
    };
}
