using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Writers;

/// <summary>
/// The files a shard-day writer's tasks made (its <c>.tmp</c> parts, its scratch file), deleted
/// when the writer stops, including those a task finishes after the stop: a task keeps its files
/// here once written, and a task that finds the writer stopped deletes them itself.
/// </summary>
internal sealed class WriterFiles
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopped = new();
    private readonly HashSet<string> _files = [];

    /// <summary>Cancelled when the writer stops, so a merge under way gives up early.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>Keeps files a task wrote; if the writer has stopped meanwhile, deletes them and throws.</summary>
    public void Keep(IEnumerable<string> paths)
    {
        lock (_gate)
        {
            if (_stopped.IsCancellationRequested)
            {
                foreach (var path in paths) AtomicFile.DeleteQuietly(path);
                throw new OperationCanceledException("the writer stopped");
            }
            _files.UnionWith(paths);
        }
    }

    /// <summary>On the writer's stop: every file kept so far goes (a committed part was renamed, so its <c>.tmp</c> name is gone already).</summary>
    public void DeleteAll()
    {
        lock (_gate)
        {
            _stopped.Cancel();
            foreach (var path in _files) AtomicFile.DeleteQuietly(path);
        }
    }
}
