using System.Globalization;

namespace AkkaLake.Benchmarks;

/// <param name="Rows">Readings to generate; <c>--days N</c> sets it to N days of every sensor at the cadence.</param>
/// <param name="BySensor">The table stores each sensor's history together (a bulk import), instead of in time order.</param>
/// <param name="Jitter">Readings off the cadence's exact instants, each sensor at its own phase, as real sensors report.</param>
/// <param name="Phases">Which parts run: backfill (with the reads right after it), memory, incremental, day; and formats (encodings against DuckDB's reader, after the reads) when asked.</param>
internal sealed record Options(long Rows, int Sensors, int Cadence, int Runs, string? DatabaseUrl, string? Out, bool BySensor, bool Jitter, IReadOnlySet<string> Phases)
{
    public static readonly string[] AllPhases = ["backfill", "memory", "incremental", "day"];

    /// <summary>Phases run only when asked for.</summary>
    public static readonly string[] ExtraPhases = ["formats"];

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
            phases);
    }
}
