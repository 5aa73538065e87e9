using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Source;
using Npgsql;

namespace AkkaLake.Core.Operations;

/// <summary>One sensor compared.</summary>
public sealed record SensorParity(string SensorId, SensorFigures? Postgres, SensorFigures? Lake)
{
    public bool Matches =>
        Postgres is { } p && Lake is { } l && p.Rows == l.Rows && p.MinTs == l.MinTs && p.MaxTs == l.MaxTs && SumsMatch(p.Sum, l.Sum);

    private static bool SumsMatch(double a, double b) =>
        (double.IsNaN(a) && double.IsNaN(b)) || a.Equals(b) || Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));
}

public sealed record ParityReport(DateTimeOffset From, DateTimeOffset To, DateTimeOffset Watermark, IReadOnlyList<SensorParity> Sensors)
{
    public int Mismatches => Sensors.Count(s => !s.Matches);
}

/// <summary>
/// Compares per-sensor row counts, min/max ts and sum of value between PostgreSQL and the
/// committed lake for a ts window, counting on the Postgres side only rows the lake should hold
/// (<see cref="SensorFigures.ReadAsync"/>).
/// </summary>
public sealed class ParityCheck(NpgsqlDataSource source, LakeRoots roots)
{
    public async Task<ParityReport> RunAsync(LakeManifest manifest, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<string>? sensorIds, int? sample, CancellationToken ct, Action<int, int>? filesRead = null)
    {
        var watermark = manifest.Metrics.ReadyWatermark;
        await using var connection = await source.OpenConnectionAsync(ct);
        var table = await SourceTable.DescribeAsync(connection, ct);
        if (sample is { } n)
            sensorIds = await SensorFigures.SampleSensorsAsync(connection, table, from, to, n, ct);
        var pg = await SensorFigures.ReadAsync(connection, table, from, to, watermark, sensorIds, ct);
        var lake = Lake(manifest, from, to, sensorIds, filesRead);
        var sensors = pg.Keys.Union(lake.Keys).Order(StringComparer.Ordinal)
            .Select(id => new SensorParity(id, pg.GetValueOrDefault(id), lake.GetValueOrDefault(id)))
            .ToList();
        return new ParityReport(from, to, watermark, sensors);
    }

    private Dictionary<string, SensorFigures> Lake(LakeManifest manifest, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string>? ids, Action<int, int>? filesRead)
    {
        var wanted = ids?.ToHashSet(StringComparer.Ordinal);
        long fromMicros = Timestamps.ToMicros(from), toMicros = Timestamps.ToMicros(to);
        var acc = new Dictionary<string, (long Rows, long Min, long Max, double Sum)>(StringComparer.Ordinal);
        var files = manifest.Files().Where(f => f.Date >= DateOnly.FromDateTime(from.UtcDateTime) && f.Date <= DateOnly.FromDateTime(to.UtcDateTime)).ToList();
        var read = 0;
        foreach (var f in files)
        {
            filesRead?.Invoke(read++, files.Count);
            var path = roots.Resolve(f.Location, f.RelativePath);
            // A committed file that is gone contributes nothing, which shows as a mismatch ('verify' names the file).
            if (!File.Exists(path)) continue;
            using var reader = new PartReader(path);
            foreach (var batch in reader.ReadBatches(65_536))
                for (var i = 0; i < batch.Count; i++)
                {
                    var ts = batch.TsMicros[i];
                    var id = batch.SensorIds[i];
                    if (ts < fromMicros || ts >= toMicros || (wanted is not null && !wanted.Contains(id))) continue;
                    var a = acc.TryGetValue(id, out var existing) ? existing : (0, long.MaxValue, long.MinValue, 0.0);
                    acc[id] = (a.Rows + 1, Math.Min(a.Min, ts), Math.Max(a.Max, ts), a.Sum + batch.Values[i]);
                }
        }
        filesRead?.Invoke(files.Count, files.Count);
        return acc.ToDictionary(kv => kv.Key, kv => new SensorFigures(kv.Value.Rows, Timestamps.FromMicros(kv.Value.Min), Timestamps.FromMicros(kv.Value.Max), kv.Value.Sum), StringComparer.Ordinal);
    }
}
