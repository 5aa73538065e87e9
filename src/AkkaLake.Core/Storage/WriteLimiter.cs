namespace AkkaLake.Core.Storage;

/// <summary>
/// How many pieces of heavy file work run at once: a shard-day writer sorting and spilling or
/// merging its runs, a compaction merge. Each holds rows or read buffers meanwhile, so one bound
/// keeps them, together, within the daemon's memory; two, whatever the cores, so the memory
/// measured on two cores holds on the controller's Mac with more of them. Each piece says what
/// it is: a wait that does not end can be told by who holds the slots, doing what, since when.
/// A wait for a slot, and work not yet begun, end when their token is cancelled.
/// </summary>
public sealed class WriteLimiter(int slots = WriteLimiter.DefaultSlots)
{
    public const int DefaultSlots = 2;

    /// <summary>Work that holds a slot: what it is and since when.</summary>
    public sealed record Holder(string Work, DateTimeOffset Since);

    private readonly SemaphoreSlim _slots = new(slots);
    private readonly Lock _gate = new();
    private readonly List<Holder> _holders = [];
    private int _waiting;
    private int _unfinished;
    private TaskCompletionSource _idle = Completed();

    public int Slots { get; } = slots;

    /// <summary>The work holding slots now, longest first.</summary>
    public IReadOnlyList<Holder> Holders
    {
        get { lock (_gate) return [.. _holders.OrderBy(h => h.Since)]; }
    }

    /// <summary>Pieces of work waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool once a slot is free, unless
    /// <paramref name="cancelled"/> is cancelled first (the task is then cancelled, and the work never runs).
    /// </summary>
    public Task<T> RunAsync<T>(string what, Func<T> work, CancellationToken cancelled = default) => Tracked(async () =>
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancelled).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        var holder = new Holder(what, DateTimeOffset.UtcNow);
        lock (_gate) _holders.Add(holder);
        try
        {
            cancelled.ThrowIfCancellationRequested();
            return work();
        }
        finally
        {
            lock (_gate) _holders.Remove(holder);
            _slots.Release();
        }
    });

    /// <summary>
    /// Removes what work left that will never be published (its <c>.tmp</c> files, its scratch),
    /// off the caller's thread and without a slot; counted as unfinished until done, so a daemon
    /// that exits waits for it.
    /// </summary>
    public Task CleanUp(Action cleanUp) => Tracked(() =>
    {
        cleanUp();
        return Task.FromResult(true);
    });

    /// <summary>
    /// Completes once no work is running, waiting or cleaning up, or after <paramref name="within"/>;
    /// true if idle. A process that exits first would leave the <c>.tmp</c> files of work under way.
    /// </summary>
    public async Task<bool> WhenIdleAsync(TimeSpan within)
    {
        Task idle;
        lock (_gate) idle = _idle.Task;
        return await Task.WhenAny(idle, Task.Delay(within)).ConfigureAwait(false) == idle;
    }

    private Task<T> Tracked<T>(Func<Task<T>> work)
    {
        lock (_gate)
        {
            if (_unfinished++ == 0) _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        return Task.Run(async () =>
        {
            try
            {
                return await work().ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    if (--_unfinished == 0) _idle.TrySetResult();
                }
            }
        }, CancellationToken.None);
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    /// <summary>Who holds the slots, in words, for a report of a wait that does not end.</summary>
    public string Describe(DateTimeOffset now)
    {
        var holders = Holders;
        return holders.Count == 0
            ? "no file work holds a write slot"
            : string.Join("; ", holders.Select(h => $"{h.Work} for {(now - h.Since).TotalSeconds:0} s")) + (Waiting > 0 ? $" ({Waiting} waiting)" : "");
    }
}
