using System.CommandLine;
using System.Text.Json;
using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Operations;

namespace AkkaLake.Commands;

/// <summary><c>akkalake verify [--rebuild-manifest]</c>: check the lake against its manifest, or rebuild a lost one.</summary>
public static class VerifyCommand
{
    public static Command Create(GlobalOptions global)
    {
        var rebuild = new Option<bool>("--rebuild-manifest") { Description = "Rebuild the manifest from the files' footers (the old one is kept as a copy). Needs the daemon stopped." };
        var json = new Option<bool>("--json") { Description = "Print the problems as JSON." };
        var command = new Command("verify", "Check every committed file (exists, size, footer, sorted rows) and look for files no commit references.") { rebuild, json };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var output = result.InvocationConfiguration.Output;
            var roots = settings.Roots;
            if (result.GetValue(rebuild))
                return Rebuild(settings.StatePath, settings.Shards, roots, output);

            var manifest = new ManifestStore(settings.StatePath).Load() ?? throw NoManifest(settings.HotPath, settings.StatePath);
            var progress = Progress.For(result.InvocationConfiguration.Error, "verify", "files");
            var report = new LakeVerifier(roots).Verify(manifest, result.GetValue(json) ? null : (done, total) => progress.Report(done, total));
            var problems = report.Problems;
            if (result.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(new { files = report.Files, problems, @unchecked = report.Unchecked }, LakeJson.Options));
            else
            {
                if (problems.Count == 0)
                    output.WriteLine($"OK: {report.Files} committed files verified, no stray files.");
                foreach (var p in problems) output.WriteLine($"{p.Kind,-16} {p.Location}:{p.Path}  {p.Detail}");
                foreach (var u in report.Unchecked) output.WriteLine($"NOT CHECKED: {u.Files} {u.Location} files: {u.Reason}.");
            }
            return problems.Count > 0 ? ExitCodes.Mismatch : report.Unchecked.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>No manifest: a lake whose manifest was lost (its data files are there) can have it rebuilt; a path with neither holds no lake.</summary>
    private static InvalidOperationException NoManifest(string hotPath, string statePath) =>
        Directory.Exists(Path.Combine(hotPath, LakeLayout.Dataset)) && Directory.EnumerateFiles(Path.Combine(hotPath, LakeLayout.Dataset), "*.parquet", SearchOption.AllDirectories).Any()
            ? new($"There is no manifest at {statePath}, but there are data files under {hotPath}; 'akkalake verify --rebuild-manifest' rebuilds the manifest from them.")
            : new($"There is no lake at {hotPath} (no _state/manifest.json and no data files): check --hot-path or --data-root.");

    private static int Rebuild(string statePath, int shards, LakeRoots roots, TextWriter output)
    {
        using var writer = LakeLock.Acquire(statePath, "verify --rebuild-manifest");
        var store = new ManifestStore(statePath);
        var now = DateTimeOffset.UtcNow;
        if (File.Exists(store.FilePath))
        {
            if (Core.Takeover.FirstImplementationLake.TryParse(File.ReadAllBytes(store.FilePath)) is not null)
                throw new InvalidOperationException(
                    $"The manifest {store.FilePath} is the controller's first implementation's: a rebuilt one would leave its files out while they stay in the directories. 'akkalake run' takes that lake over instead.");
            var copy = $"{store.FilePath}.before-rebuild-{now:yyyyMMdd'T'HHmmss'Z'}";
            File.Copy(store.FilePath, copy);
            output.WriteLine($"Kept the old manifest as {copy}");
        }
        var (manifest, report) = new ManifestRebuilder(roots).Rebuild(shards, now);
        store.ForgetCommits();
        store.Save(manifest);
        output.WriteLine($"Rebuilt the manifest: {report.Files} files in {manifest.Metrics.Partitions.Count} partitions, {report.SkippedSuperseded} superseded files left out, watermark {(report.Watermark is { } w ? Timestamps.Format(w) : "none")}.");
        foreach (var u in report.Unreadable) output.WriteLine($"unreadable, left out: {u}");
        return ExitCodes.Ok;
    }
}
