using AkkaLake.Core.Storage;

namespace AkkaLake.Actors;

/// <summary>
/// The files an actor's tasks made and no commit has published yet (a writer's <c>.tmp</c> parts
/// and scratch file, a merge's outputs), deleted when the actor stops without waiting for a task:
/// a task keeps its files here once written, and a task that finds the actor stopped deletes them itself.
/// </summary>
internal sealed class TaskFiles(WriteLimiter limiter)
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopped = new();
    private readonly HashSet<string> _files = [];

    /// <summary>Cancelled when the actor stops, so a merge under way gives up early.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>Keeps files a task wrote; if the actor has stopped meanwhile, deletes them and throws.</summary>
    public void Keep(IEnumerable<string> paths)
    {
        lock (_gate)
        {
            if (_stopped.IsCancellationRequested)
            {
                foreach (var path in paths) AtomicFile.DeleteQuietly(path);
                throw new OperationCanceledException("stopped before its files could be kept");
            }
            _files.UnionWith(paths);
        }
    }

    /// <summary>
    /// On the actor's stop, without waiting: every file kept so far goes, off the actor's thread (a
    /// committed part was renamed, so its <c>.tmp</c> name is gone already).
    /// </summary>
    public void DeleteAll()
    {
        string[] files;
        lock (_gate)
        {
            _stopped.Cancel();
            files = [.. _files];
        }
        _ = limiter.CleanUp(() =>
        {
            foreach (var path in files) AtomicFile.DeleteQuietly(path);
        });
    }
}
