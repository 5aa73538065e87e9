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

    private OfflineLake(LakeLock lakeLock, LakeSettings settings, ManifestStore store, LakeManifest manifest, RecoveryReport recovery)
    {
        _lock = lakeLock;
        Settings = settings;
        Manifest = manifest;
        Recovery = recovery;
        Store = store;
        Roots = settings.Roots;
    }

    public LakeSettings Settings { get; }
    public ManifestStore Store { get; }
    public LakeRoots Roots { get; }
    public LakeManifest Manifest { get; set; }
    public RecoveryReport Recovery { get; }

    public static OfflineLake Open(LakeSettings settings, string command)
    {
        var store = new ManifestStore(settings.StatePath);
        var opened = LakeOpener.Open(settings, command, createOrAdopt: false, store);
        return new OfflineLake(opened.Lock, settings, store, opened.Manifest, opened.Recovery);
    }

    public void Dispose() => _lock.Dispose();
}
