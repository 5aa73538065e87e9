using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaLake.Core.Layout;

/// <summary>
/// Where a partition's files are: the hot root, or the cold one (the NAS). Written as
/// <c>"hot"</c> / <c>"cold"</c> in the manifest, which the controller reads to find a partition.
/// </summary>
[JsonConverter(typeof(Json))]
public readonly record struct LakeLocation
{
    public static readonly LakeLocation Hot = new("hot");
    public static readonly LakeLocation Cold = new("cold");

    private LakeLocation(string name) => Name = name;

    public string Name { get; }

    public static IReadOnlyList<LakeLocation> All { get; } = [Hot, Cold];

    public static bool TryParse(string? name, out LakeLocation location)
    {
        location = name switch
        {
            "hot" => Hot,
            "cold" => Cold,
            _ => default,
        };
        return location.Name is not null;
    }

    public static LakeLocation Parse(string name) =>
        TryParse(name, out var location) ? location : throw new FormatException($"'{name}' is not a lake location (hot or cold).");

    public override string ToString() => Name;

    private sealed class Json : JsonConverter<LakeLocation>
    {
        public override LakeLocation Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            TryParse(reader.GetString(), out var location) ? location : throw new JsonException($"'{reader.GetString()}' is not a lake location (hot or cold).");

        public override void Write(Utf8JsonWriter writer, LakeLocation value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
    }
}
