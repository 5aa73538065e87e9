using System.Text.Json.Serialization;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// What a commit did, and what wrote a part: recorded in the manifest's pending commit, the log,
/// and each part's footer (<c>akkalake.kind</c>), by the names below.
/// </summary>
[JsonConverter(typeof(NamedValueJsonConverter<CommitKind>))]
public readonly record struct CommitKind : INamedValue<CommitKind>
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

    private CommitKind(string name) => Name = name;

    public string Name { get; }

    public static string Described => "a kind of commit AkkaLake makes";

    public static IReadOnlyList<CommitKind> All { get; } = [Replication, Backfill, Compaction, Move, Expiry, Takeover, Rebuild];

    public static bool TryParse(string? name, out CommitKind kind) => NamedValue.TryParse(name, out kind);

    public override string ToString() => Name;
}
