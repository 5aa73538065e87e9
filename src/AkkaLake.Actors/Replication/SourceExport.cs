using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using AkkaLake.Core.Source;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// One window's rows as an Akka.Streams graph: the COPY decoded a chunk at a time by
/// <c>UnfoldResource</c> on the blocking-IO dispatcher, and a queue its batch writer pulls from,
/// so back pressure reaches the COPY. Materialized before its consumer exists, it reads the next
/// backfill day ahead. Disposing it stops the COPY at once, even while a read waits on PostgreSQL.
/// </summary>
public sealed class SourceExport : IAsyncDisposable
{
    /// <summary>
    /// Chunks read ahead of the consumer at most: one in the queue, one at the reader's async
    /// boundary, one waiting in the reader. These rows are outside the writers' row budget.
    /// </summary>
    public const int ChunksAhead = 3;

    private readonly ISinkQueue<SourceChunk> _queue;
    private readonly UniqueKillSwitch _killSwitch;
    private readonly Action _cancelRead;
    private int _disposed;
    private bool _ended;

    private SourceExport(ISinkQueue<SourceChunk> queue, UniqueKillSwitch killSwitch, Action cancelRead)
    {
        _queue = queue;
        _killSwitch = killSwitch;
        _cancelRead = cancelRead;
    }

    /// <summary>
    /// What exports must be materialized with: one element per stage boundary and in the queue.
    /// The defaults hold 16 at each (48 chunks, 3M rows, ahead of a writer that has a budget of
    /// 1M), and input-buffer attributes on the graph or its stages did not change that (Akka.Streams 1.5.74).
    /// </summary>
    public static ActorMaterializerSettings MaterializerSettings(ActorSystem system) => ActorMaterializerSettings.Create(system).WithInputBuffer(1, 1);

    /// <param name="materializer">One made with <see cref="MaterializerSettings"/>.</param>
    public static SourceExport Start(Func<IChunkReader> open, IMaterializer materializer)
    {
        IChunkReader? reader = null;
        var source = Source.UnfoldResource<SourceChunk, IChunkReader>(
            () => reader = open(),
            r => r.Next() is { } chunk ? Option<SourceChunk>.Create(chunk) : Option<SourceChunk>.None,
            r => r.Dispose());
        return Run(source, () => Volatile.Read(ref reader)?.Cancel(), materializer);
    }

    /// <summary>An export of chunks already in hand, for the tests of its consumer.</summary>
    public static SourceExport Of(IEnumerable<SourceChunk> chunks, IMaterializer materializer) =>
        Run(Source.From(chunks), () => { }, materializer);

    private static SourceExport Run(Source<SourceChunk, NotUsed> source, Action cancelRead, IMaterializer materializer)
    {
        if (materializer is not ActorMaterializer { Settings.MaxInputBufferSize: 1 })
            throw new ArgumentException("An export is materialized with SourceExport.MaterializerSettings, or it reads far ahead of its row budget.", nameof(materializer));
        var (killSwitch, queue) = source
            .ViaMaterialized(KillSwitches.Single<SourceChunk>(), Keep.Right)
            .ToMaterialized(Sink.Queue<SourceChunk>(), Keep.Both)
            .Run(materializer);
        return new SourceExport(queue, killSwitch, cancelRead);
    }

    /// <summary>The next chunk, or null once the window is read (and on every pull after); one pull at a time.</summary>
    public async Task<SourceChunk?> NextAsync()
    {
        if (_ended) return null;
        if (await _queue.PullAsync() is { HasValue: true } chunk) return chunk.Value;
        _ended = true;
        return null;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return ValueTask.CompletedTask;
        _cancelRead();
        _killSwitch.Shutdown();
        return ValueTask.CompletedTask;
    }
}
