using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace AkkaLake.Testing;

/// <summary>A reading as the controller's points query returns it.</summary>
public sealed record ControllerPoint(string SensorId, DateTime Ts, double Value, int Quality);

/// <summary>A bucket as the controller's bucket query returns it.</summary>
public sealed record ControllerBucket(string SensorId, long BucketEpoch, double Avg, long Samples);

/// <summary>
/// The controller's analysis service reading the lake, replayed as its own code does it (see
/// shared/CONTEXT.md, "How the controller reads the lake"): never AkkaLake's code. For each UTC
/// date of the range and each shard of the requested sensors it takes the partition's location
/// from <c>_state/manifest.json</c> (raw JSON; a manifest it cannot read counts as empty), lists
/// the first existing of that location's directory and the other one, non-recursively, and keeps
/// every file whose extension is <c>.parquet</c>. It queries them in a fresh in-memory DuckDB with
/// <c>PRAGMA threads=2</c>, in the session time zone given (the Mac's local zone, not UTC).
/// </summary>
public sealed class ControllerReader(string hotPath, string? coldPath, int shards, string timeZone)
{
    private const string Dataset = "metrics/v1";

    public IReadOnlyList<string> ListFiles(IEnumerable<string> sensorIds, DateTimeOffset start, DateTimeOffset end)
    {
        var files = new List<string>();
        if (end <= start) return files;
        var locations = PartitionLocations();
        var shardSet = sensorIds.Select(s => s.Trim()).Where(s => s.Length > 0)
            .Select(s => (int)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(s)) % (ulong)shards)).ToHashSet();
        for (var date = DateOnly.FromDateTime(start.UtcDateTime); date <= DateOnly.FromDateTime(end.UtcDateTime); date = date.AddDays(1))
        {
            var key = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            foreach (var shard in shardSet.Order())
            {
                string?[] roots = locations.GetValueOrDefault(key) == "cold" ? [coldPath, hotPath] : [hotPath, coldPath];
                foreach (var root in roots)
                {
                    if (root is null) continue;
                    var dir = Path.Combine(root, Dataset, $"date={key}", $"shard={shard:00}");
                    if (!Directory.Exists(dir)) continue;
                    files.AddRange(Directory.EnumerateFiles(dir).Where(f => Path.GetExtension(f) == ".parquet"));
                    break;
                }
            }
        }
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>The points query: NULL quality fails it, as it fails the controller's job.</summary>
    public IReadOnlyList<ControllerPoint> Points(IReadOnlyList<string> sensorIds, DateTimeOffset start, DateTimeOffset end)
    {
        var files = ListFiles(sensorIds, start, end);
        if (files.Count == 0) return [];
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT sensor_id, ts, value, quality
            FROM read_parquet([{FileList(files)}], hive_partitioning=1, union_by_name=1)
            WHERE sensor_id IN ({SensorList(sensorIds)})
              AND ts >= '{Rfc3339(start)}'::TIMESTAMP
              AND ts <= '{Rfc3339(end)}'::TIMESTAMP
            ORDER BY sensor_id, ts
            """;
        using var reader = command.ExecuteReader();
        var points = new List<ControllerPoint>();
        while (reader.Read())
        {
            if (reader.IsDBNull(3)) throw new InvalidDataException($"NULL quality for {reader.GetString(0)}: the controller's job fails on it.");
            points.Add(new ControllerPoint(reader.GetString(0), reader.GetDateTime(1), reader.GetDouble(2), reader.GetInt32(3)));
        }
        return points;
    }

    /// <summary>The bucket query (average per bucket of <paramref name="seconds"/>), optionally only good readings.</summary>
    public IReadOnlyList<ControllerBucket> Buckets(IReadOnlyList<string> sensorIds, DateTimeOffset start, DateTimeOffset end, int seconds, bool goodOnly = false)
    {
        var files = ListFiles(sensorIds, start, end);
        if (files.Count == 0) return [];
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT sensor_id, CAST(floor(epoch(ts) / {seconds}) * {seconds} AS BIGINT) AS bucket_epoch, avg(value) AS value, COUNT(*) AS samples
            FROM read_parquet([{FileList(files)}], hive_partitioning=1, union_by_name=1)
            WHERE sensor_id IN ({SensorList(sensorIds)})
              AND ts >= '{Rfc3339(start)}'::TIMESTAMP
              AND ts < '{Rfc3339(end)}'::TIMESTAMP
              {(goodOnly ? "AND COALESCE(quality, 0) = 0" : "")}
            GROUP BY sensor_id, bucket_epoch
            ORDER BY sensor_id, bucket_epoch
            """;
        using var reader = command.ExecuteReader();
        var buckets = new List<ControllerBucket>();
        while (reader.Read())
            buckets.Add(new ControllerBucket(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3)));
        return buckets;
    }

    private Dictionary<string, string> PartitionLocations()
    {
        var locations = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(hotPath, "_state", "manifest.json")));
            foreach (var p in doc.RootElement.GetProperty("datasets").GetProperty(Dataset).GetProperty("partitions").EnumerateObject())
                if (p.Value.TryGetProperty("location", out var location) && location.GetString() is { Length: > 0 } l)
                    locations[p.Name] = l;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // As the controller: an unreadable manifest means a filesystem scan.
        }
        return locations;
    }

    private DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var setup = connection.CreateCommand();
        setup.CommandText = $"PRAGMA threads=2; SET TimeZone = '{timeZone}';";
        setup.ExecuteNonQuery();
        return connection;
    }

    // chrono's DateTime<Utc>::to_rfc3339.
    private static string Rfc3339(DateTimeOffset t) =>
        t.UtcDateTime.ToString(t.UtcDateTime.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'+00:00'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);

    private static string FileList(IEnumerable<string> files) => string.Join(", ", files.Select(f => $"'{f.Replace("'", "''", StringComparison.Ordinal)}'"));

    private static string SensorList(IEnumerable<string> ids) => string.Join(", ", ids.Select(s => $"'{s.Trim().Replace("'", "''", StringComparison.Ordinal)}'"));
}
