using System.Globalization;
using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// What JSON parsing cannot promise about a manifest: every collection present, every key a
/// date or shard of this lake, every location known, every path a plain name inside the lake.
/// A manifest failing this is damaged, and acting on it could touch files outside the lake.
/// </summary>
public static class ManifestShape
{
    /// <summary>The first thing wrong with the manifest, or null when it is well-formed.</summary>
    public static string? Problem(LakeManifest m)
    {
        if (m.Datasets is null) return "datasets is missing";
        if (m.PendingDeletions is null) return "pending_deletions is missing";
        foreach (var d in m.PendingDeletions)
            if ((LocationProblem(d?.Location) ?? PathProblem(d?.Path)) is { } p) return $"a pending deletion: {p}";
        if (m.PendingCommit is { } c)
        {
            if (c.Files is null) return "pending_commit.files is missing";
            foreach (var f in c.Files.Concat(c.Retired ?? []))
                if ((LocationProblem(f?.Location) ?? PathProblem(f?.Path)) is { } p) return $"the pending commit: {p}";
        }
        foreach (var (name, dataset) in m.Datasets)
        {
            if (dataset?.Partitions is null) return $"dataset {name} has no partitions";
            foreach (var (date, partition) in dataset.Partitions)
            {
                if (LakeLayout.TryParseDateKey(date) is null)
                    return $"partition \"{date}\" is not a date";
                if (partition?.Shards is null) return $"partition {date} has no shards";
                if (LocationProblem(partition.Location) is { } l) return $"partition {date}: {l}";
                foreach (var (shard, state) in partition.Shards)
                {
                    if (shard.Length != 2 || !int.TryParse(shard, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n >= m.Shards)
                        return $"partition {date} has shard \"{shard}\", not one of its {m.Shards} shards";
                    if (state?.Files is null) return $"partition {date} shard {shard} has no file list";
                    foreach (var f in state.Files)
                        if (f?.Name is not { } fileName || fileName.Contains('/') || fileName.Contains('\\') || !fileName.EndsWith(LakeLayout.ParquetSuffix, StringComparison.Ordinal))
                            return $"partition {date} shard {shard} lists a file named \"{f?.Name}\"";
                }
            }
        }
        return null;
    }

    // JSON parsing refuses a location that is neither hot nor cold; a missing one reads as default.
    private static string? LocationProblem(LakeLocation? location) =>
        location is { Name: not null } ? null : "its location is missing";

    private static string? PathProblem(string? path) =>
        path is null || !path.StartsWith(LakeLayout.Dataset + "/", StringComparison.Ordinal) || path.Split('/').Any(s => s is "" or "." or "..")
            ? $"path \"{path}\" is not inside the lake's dataset"
            : null;
}
