namespace AkkaLake.Actors;

/// <summary>
/// An actor's file work, run off its thread one piece at a time, in the order asked, so no two
/// writes of one state file overlap. The coordinator creates one with its props, so it outlives
/// a restart: a new incarnation opens the lake only after the work of the last one is done.
/// </summary>
public sealed class SerialWork
{
    private Task _last = Task.CompletedTask;

    /// <summary>Nothing asked is still running.</summary>
    public bool Idle => _last.IsCompleted;

    /// <summary>Runs <paramref name="work"/> once everything asked before it has ended, however that went.</summary>
    public Task<T> Then<T>(Func<T> work)
    {
        var next = _last.ContinueWith(_ => work(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _last = next;
        return next;
    }

    public void Then(Action work) => Then(() =>
    {
        work();
        return true;
    });
}
