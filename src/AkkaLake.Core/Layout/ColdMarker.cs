using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Layout;

/// <summary>A location that cannot take files now (a NAS not mounted, no permission); retried later.</summary>
public sealed class LocationUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A file that marks a directory as this lake's cold location. An unmounted NAS leaves an empty
/// mount point behind, and files written there land on the local disk, hidden once the NAS is
/// back: nothing is written to a cold path that should hold partitions but lacks the marker.
/// </summary>
public static class ColdMarker
{
    public const string FileName = ".akkalake-cold";

    public static bool IsPresent(string coldRoot) => File.Exists(Path.Combine(coldRoot, FileName));

    /// <summary>Writes the marker on first use of a cold path; refuses a path without it once the lake has partitions there.</summary>
    public static void Ensure(LakeManifest manifest, string coldRoot)
    {
        if (!Directory.Exists(coldRoot))
            throw new LocationUnavailableException($"The cold path {coldRoot} does not exist (is the NAS mounted?).");
        if (IsPresent(coldRoot)) return;
        if (manifest.Metrics.Partitions.Values.Any(p => p.Location == LakeLocation.Cold))
            throw new LocationUnavailableException(
                $"The cold path {coldRoot} has no {FileName} marker although the lake has partitions there: it looks like an empty mount point (is the NAS mounted?).");
        AtomicFile.WriteAllBytes(Path.Combine(coldRoot, FileName), "This directory holds AkkaLake partitions moved off the hot path; the lake's manifest records which.\n"u8.ToArray());
    }
}
