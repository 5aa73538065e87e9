using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// What a commit did, and what wrote a part: recorded in the manifest's pending commit, the log,
/// and each part's footer (<c>akkalake.kind</c>), by the names below.
/// </summary>
[JsonConverter(typeof(Json))]
public readonly record struct CommitKind
{
    /// <summary>Rows inserted or changed since the last cursor.</summary>
    public static readonly CommitKind Replication = new("replication");

    /// <summary>Whole days read as of a cursor: the first backfill, a rebuild by hand, a takeover's day.</summary>
    public static readonly CommitKind Backfill = new("backfill");

    public static readonly CommitKind Compaction = new("compaction");

    /// <summary>A partition moved between the hot and cold paths.</summary>
    public static readonly CommitKind Move = new("move");

    /// <summary>Partitions past retention dropped.</summary>
    public static readonly CommitKind Expiry = new("expiry");

    /// <summary>The first implementation's files adopted as they are.</summary>
    public static readonly CommitKind Takeover = new("takeover");

    /// <summary>A manifest rebuilt from the files' footers.</summary>
    public static readonly CommitKind Rebuild = new("rebuild");

    private static readonly CommitKind[] All = [Replication, Backfill, Compaction, Move, Expiry, Takeover, Rebuild];

    private CommitKind(string name) => Name = name;

    public string Name { get; }

    public static bool TryParse(string? name, out CommitKind kind)
    {
        kind = Array.Find(All, k => k.Name == name);
        return kind.Name is not null;
    }

    public static CommitKind Parse(string name) =>
        TryParse(name, out var kind) ? kind : throw new FormatException($"'{name}' is not a kind of commit AkkaLake makes.");

    public override string ToString() => Name;

    private sealed class Json : JsonConverter<CommitKind>
    {
        public override CommitKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            TryParse(reader.GetString(), out var kind) ? kind : throw new JsonException($"'{reader.GetString()}' is not a kind of commit AkkaLake makes.");

        public override void Write(Utf8JsonWriter writer, CommitKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
    }
}
