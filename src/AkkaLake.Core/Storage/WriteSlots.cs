namespace AkkaLake.Core.Storage;

/// <summary>
/// How many pieces of heavy file work the process runs at once: a shard-day writer sorting and
/// spilling or merging its runs, a compaction merge. Each holds rows or read buffers meanwhile,
/// so one shared bound keeps them, together, within the daemon's memory. Two, whatever the cores:
/// the memory measured on two cores then holds on the controller's Mac with more of them.
/// </summary>
public static class WriteSlots
{
    public const int Count = 2;

    private static readonly SemaphoreSlim Slots = new(Count);

    /// <summary>Runs <paramref name="work"/> on the thread pool once a slot is free.</summary>
    public static Task<T> RunAsync<T>(Func<T> work) => Task.Run(async () =>
    {
        await Slots.WaitAsync().ConfigureAwait(false);
        try
        {
            return work();
        }
        finally
        {
            Slots.Release();
        }
    });
}
