using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Recovery;

/// <summary>What kind of file sits where the manifest does not put it.</summary>
public enum StrayKind
{
    /// <summary>An unfinished write.</summary>
    Tmp,

    /// <summary>An AkkaLake part no commit references.</summary>
    Part,

    /// <summary>A superseded file no pending deletion accounts for.</summary>
    Superseded,

    /// <summary>A <c>*.parquet</c> AkkaLake did not write: readers that list directories read it as part of the lake.</summary>
    Foreign,
}

/// <summary>A file in a partition directory that no commit references.</summary>
public sealed record StrayFile(LakeLocation Location, string RelativePath, string FullPath, StrayKind Kind)
{
    /// <summary>AkkaLake's own leftovers, which recovery removes; foreign files are only reported.</summary>
    public bool IsOurs => Kind != StrayKind.Foreign;
}

/// <summary>
/// The one rule for what does not belong in the lake: unfinished <c>.tmp</c> files, part and
/// superseded files the manifest does not reference, and any other <c>*.parquet</c>. Recovery
/// removes AkkaLake's own and <c>verify</c> reports them all; any other file is left alone.
/// </summary>
public static class StrayFiles
{
    public static IEnumerable<StrayFile> Find(LakeManifest manifest, LakeRoots roots)
    {
        foreach (var (location, root) in roots.Configured())
        {
            var datasetDir = LakeLayout.Resolve(root, LakeLayout.Dataset);
            if (!Directory.Exists(datasetDir)) continue;
            var referenced = manifest.ReferencedPaths(location);
            foreach (var file in Directory.EnumerateFiles(datasetDir, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (referenced.Contains(relative)) continue;
                if (KindOf(Path.GetFileName(file)) is { } kind)
                    yield return new StrayFile(location, relative, file, kind);
            }
        }
    }

    private static StrayKind? KindOf(string name) =>
        name.EndsWith(AtomicFile.TmpSuffix, StringComparison.Ordinal) ? StrayKind.Tmp
        : name.EndsWith(LakeLayout.SupersededSuffix, StringComparison.Ordinal) ? StrayKind.Superseded
        : LakeLayout.IsPartFileName(name) ? StrayKind.Part
        : name.EndsWith(LakeLayout.ParquetSuffix, StringComparison.OrdinalIgnoreCase) ? StrayKind.Foreign
        : null;
}
