using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Recovery;

/// <summary>A file in a partition directory that no commit references.</summary>
public sealed record StrayFile(string Location, string RelativePath, string FullPath, bool IsTmp);

/// <summary>
/// The one rule for what does not belong in the lake: unfinished <c>.tmp</c> files and part files
/// the manifest does not reference (committed or awaiting deletion). Recovery removes exactly
/// these and <c>verify</c> reports exactly these; any other file is left alone.
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
                var name = Path.GetFileName(file);
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                var isTmp = name.EndsWith(AtomicFile.TmpSuffix, StringComparison.Ordinal);
                if ((isTmp || LakeLayout.IsPartFileName(name)) && !referenced.Contains(relative))
                    yield return new StrayFile(location, relative, file, isTmp);
            }
        }
    }
}
