using System.Text.Json;

namespace AkkaLake.Core.Parquet;

/// <summary>
/// Each sensor's first and last ts in a part file, kept in its footer so a replication batch can
/// tell from the footer alone that a new reading cannot replace one of the file's rows (the usual
/// case: a sensor's new readings come after its last one). Only files of at least
/// <see cref="MinRows"/> rows carry them (a smaller one is cheaper to read than the ranges are to
/// write into every tick's part), and only up to <see cref="MaxSensors"/> sensors; for the
/// others the file's ts range stands in.
/// </summary>
public sealed class SensorRanges
{
    public const string Key = "akkalake.sensor_ts_ranges";
    public const int MaxSensors = 10_000;
    public const long MinRows = 65_536;

    private readonly Dictionary<string, (long Min, long Max)> _ranges = new(StringComparer.Ordinal);

    /// <summary>Adds rows sorted by (sensor_id, ts); false once the file holds too many sensors to summarise.</summary>
    public bool Add(ReadOnlySpan<string> sensorIds, ReadOnlySpan<long> ts)
    {
        var i = 0;
        while (i < sensorIds.Length)
        {
            var id = sensorIds[i];
            var j = i + 1;
            while (j < sensorIds.Length && string.Equals(sensorIds[j], id, StringComparison.Ordinal)) j++;
            Include(id, ts[i], ts[j - 1]);
            if (_ranges.Count > MaxSensors) return false;
            i = j;
        }
        return true;
    }

    private void Include(string id, long min, long max)
    {
        _ranges[id] = _ranges.TryGetValue(id, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
    }

    /// <summary>Whether the file may hold a row of this sensor at this ts.</summary>
    public bool MayHold(string sensorId, long ts) => _ranges.TryGetValue(sensorId, out var r) && ts >= r.Min && ts <= r.Max;

    public string Encode()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (id, (min, max)) in _ranges)
            {
                json.WriteStartArray();
                json.WriteStringValue(id);
                json.WriteNumberValue(min);
                json.WriteNumberValue(max);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The ranges a footer records; null when it records none or they cannot be read.</summary>
    public static SensorRanges? Decode(IReadOnlyDictionary<string, string> keyValues)
    {
        if (!keyValues.TryGetValue(Key, out var text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var ranges = new SensorRanges();
            foreach (var entry in doc.RootElement.EnumerateArray())
                ranges.Include(entry[0].GetString()!, entry[1].GetInt64(), entry[2].GetInt64());
            return ranges;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            return null;
        }
    }
}
