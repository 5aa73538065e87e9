using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Layout;

/// <summary>The hot root and the optional cold root a location name resolves to.</summary>
public sealed record LakeRoots(string Hot, string? Cold)
{
    public string RootOf(string location) => location switch
    {
        Locations.Hot => Hot,
        Locations.Cold => Cold ?? throw new InvalidOperationException("The lake has cold partitions but no cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH)."),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location, null),
    };

    public string Resolve(string location, string relativePath) => LakeLayout.Resolve(RootOf(location), relativePath);

    /// <summary>The locations this deployment has: hot, and cold when a cold path is set.</summary>
    public IEnumerable<(string Location, string Root)> Configured()
    {
        yield return (Locations.Hot, Hot);
        if (Cold is not null) yield return (Locations.Cold, Cold);
    }
}
