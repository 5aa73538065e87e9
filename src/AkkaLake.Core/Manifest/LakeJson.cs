using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaLake.Core.Manifest;

/// <summary>JSON conventions of the lake's state files: snake_case names, RFC 3339 UTC timestamps.</summary>
public static class LakeJson
{
    public static readonly JsonSerializerOptions Options = Create(indented: true);
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = indented,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        RespectNullableAnnotations = true,
        Converters = { new TimestampConverter() },
    };

    private sealed class TimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString() ?? throw new JsonException("A timestamp may not be null here.");
            try
            {
                return Timestamps.Parse(text);
            }
            catch (FormatException e)
            {
                throw new JsonException($"\"{text}\" is not an RFC 3339 timestamp.", e);
            }
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Timestamps.Format(value));
    }
}
