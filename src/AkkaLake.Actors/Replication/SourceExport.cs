using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using AkkaLake.Core.Source;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// One window's rows as an Akka.Streams graph: the COPY decoded a chunk at a time by
/// <c>UnfoldResource</c> on the blocking-IO dispatcher, a bounded buffer of routed chunks, and a
/// queue its batch writer pulls from, so back pressure reaches the COPY. Materialized before its
/// consumer exists, it reads the next backfill day ahead. Disposing it stops the COPY at once,
/// even while a read waits on PostgreSQL.
/// </summary>
public sealed class SourceExport : IAsyncDisposable
{
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

    /// <param name="readAhead">Chunks decoded ahead of the consumer.</param>
    public static SourceExport Start(Func<MetricsSource.Reader> open, int readAhead, IMaterializer materializer)
    {
        MetricsSource.Reader? reader = null;
        var source = Source.UnfoldResource<SourceChunk, MetricsSource.Reader>(
            () => reader = open(),
            r => r.Next() is { } chunk ? Option<SourceChunk>.Create(chunk) : Option<SourceChunk>.None,
            r => r.Dispose());
        return Run(source, readAhead, () => Volatile.Read(ref reader)?.Cancel(), materializer);
    }

    /// <summary>An export of chunks already in hand, for the tests of its consumer.</summary>
    public static SourceExport Of(IEnumerable<SourceChunk> chunks, IMaterializer materializer) =>
        Run(Source.From(chunks), 1, () => { }, materializer);

    private static SourceExport Run(Source<SourceChunk, NotUsed> source, int readAhead, Action cancelRead, IMaterializer materializer)
    {
        // One element per stage boundary: the read-ahead is the buffer's, not the defaults' (16 per boundary).
        var (killSwitch, queue) = source
            .Buffer(Math.Max(1, readAhead - 1), OverflowStrategy.Backpressure)
            .ViaMaterialized(KillSwitches.Single<SourceChunk>(), Keep.Right)
            .ToMaterialized(Sink.Queue<SourceChunk>(), Keep.Both)
            .WithAttributes(Attributes.CreateInputBuffer(1, 1))
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
