using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Spill;
using AkkaLake.Core.Takeover;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// Opens a lake to write to it, the one way the daemon's coordinator and the commands run by hand
/// do: take the writer lock, load the manifest, refuse a different shard count, remember the
/// configured cold path, recover an interrupted commit, and clear the scratch that ended processes of this lake spilled.
/// </summary>
public static class LakeOpener
{
    public sealed record Opened(LakeLock Lock, LakeManifest Manifest, RecoveryReport Recovery, AdoptionReport? Adopted);

    /// <param name="holder">Who holds the lock, as other processes are told.</param>
    /// <param name="createOrAdopt">
    /// The daemon starts a lake where there is none, taking over the first implementation's files
    /// if they are there; a command run by hand needs a lake to exist.
    /// </param>
    /// <param name="store">The store the opener's caller goes on committing through, so that it knows what it loaded.</param>
    public static Opened Open(LakeSettings settings, string holder, bool createOrAdopt, ManifestStore? store = null)
    {
        store ??= new ManifestStore(settings.StatePath);
        var roots = settings.Roots;
        if (!createOrAdopt && !store.Exists)
            throw new InvalidOperationException($"There is no lake at {settings.HotPath} (no _state/manifest.json).");
        var lakeLock = LakeLock.Acquire(settings.StatePath, holder);
        try
        {
            var now = DateTimeOffset.UtcNow;
            var (manifest, adopted) = createOrAdopt ? new LakeAdoption(store, roots).LoadOrAdopt(settings.Shards, now) : (store.Load()!, null);
            if (manifest is null)
            {
                manifest = LakeManifest.Create(settings.Shards, now);
                store.Save(manifest);
            }
            else if (manifest.Shards != settings.Shards)
            {
                throw new InvalidOperationException(
                    $"The lake at {settings.HotPath} was built with {manifest.Shards} shards, but {settings.OriginOf(LakeSettingsParser.Shards)} sets {settings.Shards}; " +
                    $"a lake's shard count is fixed: use {manifest.Shards}, or write a new lake into an empty hot path.");
            }
            ColdPathMemory.RememberConfigured(settings);
            var (recovered, report) = new LakeRecovery(store, roots).Recover(manifest, now);
            return new Opened(lakeLock, recovered, ClearSpills(settings, report), adopted);
        }
        catch
        {
            lakeLock.Dispose();
            throw;
        }
    }

    /// <summary>Sorted runs an ended process of this lake spilled before a crash or kill: scratch that no commit will read.</summary>
    private static RecoveryReport ClearSpills(LakeSettings settings, RecoveryReport report)
    {
        try
        {
            return report with { RemovedSpillFiles = new SpillArea(settings.TmpPath, settings.HotPath).ClearLeftovers(DateTimeOffset.UtcNow) };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return report with { Warnings = [.. report.Warnings, $"could not clear the scratch path {settings.TmpPath}: {e.Message}"] };
        }
    }
}
