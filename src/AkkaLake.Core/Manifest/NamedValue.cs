using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaLake.Core.Manifest;

/// <summary>A closed set of values, each written by its name in the lake's JSON and files.</summary>
public interface INamedValue<TSelf> where TSelf : struct, INamedValue<TSelf>
{
    string Name { get; }

    /// <summary>What the values are, for the error naming one that is not among them ("a lake location (hot or cold)").</summary>
    static abstract string Described { get; }

    static abstract IReadOnlyList<TSelf> All { get; }
}

public static class NamedValue
{
    public static bool TryParse<T>(string? name, out T value) where T : struct, INamedValue<T>
    {
        foreach (var candidate in T.All)
            if (candidate.Name == name)
            {
                value = candidate;
                return true;
            }
        value = default;
        return false;
    }

    public static T Parse<T>(string? name) where T : struct, INamedValue<T> =>
        TryParse<T>(name, out var value) ? value : throw new FormatException($"'{name}' is not {T.Described}.");
}

/// <summary>Writes a <see cref="INamedValue{TSelf}"/> as its name and refuses a name outside the set.</summary>
public sealed class NamedValueJsonConverter<T> : JsonConverter<T> where T : struct, INamedValue<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        NamedValue.TryParse<T>(reader.GetString(), out var value) ? value : throw new JsonException($"'{reader.GetString()}' is not {T.Described}.");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
