using System.Text.Json;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Takeover;

/// <summary>
/// What the controller's first implementation recorded about its lake: its watermark and each
/// partition's location. Its manifest has no file lists, no shard count and no commit sequence,
/// which is how it is told from AkkaLake's own.
/// </summary>
public sealed record FirstImplementationLake(DateTimeOffset? Watermark, IReadOnlyDictionary<string, string> Locations)
{
    /// <summary>The first implementation's manifest in these bytes, or null when they are anything else.</summary>
    public static FirstImplementationLake? TryParse(byte[] manifest)
    {
        try
        {
            using var doc = JsonDocument.Parse(manifest);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("commit_seq", out _) || root.TryGetProperty("shards", out _) ||
                !root.TryGetProperty("datasets", out var datasets) || datasets.ValueKind != JsonValueKind.Object)
                return null;
            if (!datasets.TryGetProperty(LakeLayout.Dataset, out var dataset) || dataset.ValueKind != JsonValueKind.Object)
                return new FirstImplementationLake(null, new Dictionary<string, string>());
            DateTimeOffset? watermark = dataset.TryGetProperty("computed_through_ts", out var w) && w.ValueKind == JsonValueKind.String
                ? DateTimeOffset.Parse(w.GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime()
                : null;
            var locations = new Dictionary<string, string>(StringComparer.Ordinal);
            if (dataset.TryGetProperty("partitions", out var partitions) && partitions.ValueKind == JsonValueKind.Object)
                foreach (var p in partitions.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("location", out var l) && l.GetString() is { Length: > 0 } location)
                        locations[p.Name] = location;
            return new FirstImplementationLake(watermark, locations);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}
