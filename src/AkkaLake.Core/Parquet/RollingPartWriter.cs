using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Parquet;

/// <summary>
/// Writes sorted rows of one shard-day into <c>.tmp</c> parts named <c>&lt;kind&gt;-&lt;run&gt;-NNNN</c>,
/// starting the next part once one passes <paramref name="targetBytes"/>. Disposed before
/// <see cref="Finish"/> (a failure), it deletes every <c>.tmp</c> it wrote.
/// </summary>
/// <param name="firstIndex">The number of its first file's name: writers of one run that write beside each other take disjoint ranges.</param>
public sealed class RollingPartWriter(string root, ShardDay shardDay, PartKind kind, PartMetadata metadata, int rowGroupRows, long targetBytes, int firstIndex = 0) : IDisposable
{
    private readonly List<(string FileName, WrittenPart Written)> _finished = [];
    private PartWriter? _current;
    private string? _currentName;
    private bool _done;

    public void Append(MetricRows sorted)
    {
        if (sorted.Count == 0) return;
        if (_current is { } full && full.BytesWritten >= targetBytes) Close();
        if (_current is null)
        {
            _currentName = LakeLayout.FileName(kind, metadata.RunId, firstIndex + _finished.Count);
            _current = new PartWriter(LakeLayout.Resolve(root, LakeLayout.FilePath(shardDay.Date, shardDay.Shard, _currentName)) + AtomicFile.TmpSuffix, metadata, rowGroupRows);
        }
        _current.Append(sorted);
    }

    /// <summary>The parts written, each finished and flushed to disk; none if no rows came.</summary>
    public IReadOnlyList<(string FileName, WrittenPart Written)> Finish()
    {
        if (_current is not null) Close();
        _done = true;
        return _finished;
    }

    private void Close()
    {
        _finished.Add((_currentName!, _current!.Finish()));
        _current.Dispose();
        _current = null;
    }

    public void Dispose()
    {
        if (_current is { } writer)
        {
            try
            {
                writer.Dispose();
            }
            finally
            {
                AtomicFile.DeleteQuietly(writer.TmpPath);
            }
        }
        if (!_done)
            foreach (var (_, written) in _finished) AtomicFile.DeleteQuietly(written.TmpPath);
    }
}
