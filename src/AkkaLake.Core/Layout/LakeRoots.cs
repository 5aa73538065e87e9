namespace AkkaLake.Core.Layout;

/// <summary>The hot root and the optional cold root a location name resolves to.</summary>
public sealed record LakeRoots(string Hot, string? Cold)
{
    public string RootOf(LakeLocation location) => location == LakeLocation.Cold
        ? Cold ?? throw new InvalidOperationException("The lake has cold partitions but no cold path is configured (CORE_ANALYSIS_LAKE_COLD_PATH).")
        : Hot;

    public string Resolve(LakeLocation location, string relativePath) => LakeLayout.Resolve(RootOf(location), relativePath);

    /// <summary>The locations this deployment has: hot, and cold when a cold path is set.</summary>
    public IEnumerable<(LakeLocation Location, string Root)> Configured()
    {
        yield return (LakeLocation.Hot, Hot);
        if (Cold is not null) yield return (LakeLocation.Cold, Cold);
    }
}
