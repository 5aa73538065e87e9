using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Source;
using Npgsql;

namespace AkkaLake.Core.Operations;

/// <summary>Per-sensor figures on one side.</summary>
public sealed record SensorFigures(long Rows, DateTimeOffset? MinTs, DateTimeOffset? MaxTs, double Sum);

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
/// committed lake for a ts window, counting on the Postgres side only rows the lake should hold:
/// inserted up to the watermark (or with no inserted_at) and valid under the lake's row rules.
/// </summary>
public sealed class ParityCheck(NpgsqlDataSource source, LakeRoots roots)
{
    public async Task<ParityReport> RunAsync(LakeManifest manifest, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<string>? sensorIds, int? sample, CancellationToken ct, Action<int, int>? filesRead = null)
    {
        var watermark = manifest.Metrics.ComputedThroughTs
            ?? throw new InvalidOperationException("The lake has no watermark yet: its first backfill has not completed.");
        if (manifest.Metrics.Takeover is { CompletedAt: null } takeover)
            throw new InvalidOperationException($"The lake is being taken over from the controller's first implementation ({takeover.DaysLeft.Count} days left to rebuild); parity compares once the takeover is complete.");
        await using var connection = await source.OpenConnectionAsync(ct);
        if (sample is { } n)
            sensorIds = await SampleAsync(connection, from, to, n, ct);
        var pg = await PostgresAsync(connection, from, to, watermark, sensorIds, ct);
        var lake = Lake(manifest, from, to, sensorIds, filesRead);
        var sensors = pg.Keys.Union(lake.Keys).Order(StringComparer.Ordinal)
            .Select(id => new SensorParity(id, pg.GetValueOrDefault(id), lake.GetValueOrDefault(id)))
            .ToList();
        return new ParityReport(from, to, watermark, sensors);
    }

    private static async Task<IReadOnlyList<string>> SampleAsync(NpgsqlConnection connection, DateTimeOffset from, DateTimeOffset to, int n, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT sensor_id FROM (SELECT DISTINCT sensor_id::text FROM metrics WHERE ts >= @from AND ts < @to AND sensor_id IS NOT NULL) s ORDER BY random() LIMIT @n", connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("n", n);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    private static async Task<Dictionary<string, SensorFigures>> PostgresAsync(NpgsqlConnection connection, DateTimeOffset from, DateTimeOffset to,
        DateTimeOffset watermark, IReadOnlyList<string>? ids, CancellationToken ct)
    {
        var filter = ids is null ? "" : " AND sensor_id::text = ANY(@ids)";
        await using var command = new NpgsqlCommand($"""
            SELECT sensor_id::text, count(*), min(ts), max(ts), sum(value)
            FROM metrics
            WHERE ts >= @from AND ts < @to AND (inserted_at <= @w OR inserted_at IS NULL)
              AND sensor_id IS NOT NULL AND length(sensor_id::text) BETWEEN 1 AND {RowRules.MaxSensorIdLength}
              AND value IS NOT NULL AND ts >= '0001-01-01Z' AND ts < '10000-01-01Z'{filter}
            GROUP BY sensor_id
            """, connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("w", watermark);
        if (ids is not null) command.Parameters.AddWithValue("ids", ids.ToArray());
        var result = new Dictionary<string, SensorFigures>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result[reader.GetString(0)] = new SensorFigures(reader.GetInt64(1),
                Timestamps.TruncateToMicros(reader.GetFieldValue<DateTimeOffset>(2)), Timestamps.TruncateToMicros(reader.GetFieldValue<DateTimeOffset>(3)), reader.GetDouble(4));
        return result;
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
