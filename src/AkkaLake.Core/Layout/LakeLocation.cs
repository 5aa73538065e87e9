using System.Text.Json.Serialization;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Layout;

/// <summary>
/// Where a partition's files are: the hot root, or the cold one (the NAS). Written as
/// <c>"hot"</c> / <c>"cold"</c> in the manifest, which the controller reads to find a partition.
/// </summary>
[JsonConverter(typeof(NamedValueJsonConverter<LakeLocation>))]
public readonly record struct LakeLocation : INamedValue<LakeLocation>
{
    public static readonly LakeLocation Hot = new("hot");
    public static readonly LakeLocation Cold = new("cold");

    private LakeLocation(string name) => Name = name;

    public string Name { get; }

    public static string Described => "a lake location (hot or cold)";

    public static IReadOnlyList<LakeLocation> All { get; } = [Hot, Cold];

    public static bool TryParse(string? name, out LakeLocation location) => NamedValue.TryParse(name, out location);

    public static LakeLocation Parse(string name) => NamedValue.Parse<LakeLocation>(name);

    public override string ToString() => Name;
}
