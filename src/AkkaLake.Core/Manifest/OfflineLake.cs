using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Recovery;

namespace AkkaLake.Core.Manifest;

/// <summary>
/// A lake opened by a command run by hand (compact, move-partition) while the daemon is stopped:
/// the writer lock is held, the manifest loaded and recovered exactly as the coordinator does.
/// </summary>
public sealed class OfflineLake : IDisposable
{
    private readonly LakeLock _lock;

    private OfflineLake(LakeLock lakeLock, LakeSettings settings, LakeManifest manifest, RecoveryReport recovery)
    {
        _lock = lakeLock;
        Settings = settings;
        Manifest = manifest;
        Recovery = recovery;
        Store = new ManifestStore(settings.StatePath);
        Roots = new LakeRoots(settings.HotPath, settings.ColdPath);
    }

    public LakeSettings Settings { get; }
    public ManifestStore Store { get; }
    public LakeRoots Roots { get; }
    public LakeManifest Manifest { get; set; }
    public RecoveryReport Recovery { get; }

    public static OfflineLake Open(LakeSettings settings, string command)
    {
        var store = new ManifestStore(settings.StatePath);
        if (!store.Exists)
            throw new InvalidOperationException($"There is no lake at {settings.HotPath} (no _state/manifest.json).");
        var lakeLock = LakeLock.Acquire(settings.StatePath, command);
        try
        {
            var manifest = store.Load()!;
            if (manifest.Shards != settings.Shards)
                throw new InvalidOperationException($"The lake was built with {manifest.Shards} shards but CORE_ANALYSIS_LAKE_SHARDS is {settings.Shards}.");
            ColdPathMemory.RememberConfigured(settings);
            var (recovered, report) = new LakeRecovery(store, new LakeRoots(settings.HotPath, settings.ColdPath)).Recover(manifest, DateTimeOffset.UtcNow);
            return new OfflineLake(lakeLock, settings, recovered, report);
        }
        catch
        {
            lakeLock.Dispose();
            throw;
        }
    }

    public void Dispose() => _lock.Dispose();
}
