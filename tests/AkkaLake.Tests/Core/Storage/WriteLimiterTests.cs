using AkkaLake.Core.Storage;
using Xunit;

namespace AkkaLake.Core.Tests.Storage;

public class WriteLimiterTests
{
    [Fact]
    public async Task No_more_work_runs_at_once_than_there_are_slots_and_each_holder_says_what_it_does()
    {
        var limiter = new WriteLimiter(2);
        var release = new TaskCompletionSource();
        var started = new SemaphoreSlim(0);
        var running = 0;
        var most = 0;
        var work = Enumerable.Range(0, 5).Select(i => limiter.RunAsync($"merging part {i}", () =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            started.Release();
            release.Task.Wait();
            Interlocked.Decrement(ref running);
            return i;
        })).ToList();

        await started.WaitAsync();
        await started.WaitAsync();
        Assert.Equal(2, limiter.Holders.Count);
        Assert.All(limiter.Holders, h => Assert.StartsWith("merging part ", h.Work));
        while (limiter.Waiting < 3) await Task.Delay(10);
        Assert.Contains("(3 waiting)", limiter.Describe(DateTimeOffset.UtcNow));

        release.SetResult();
        var results = await Task.WhenAll(work);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, results);
        Assert.Equal(2, most);
        Assert.Empty(limiter.Holders);
        Assert.Equal("no file work holds a write slot", limiter.Describe(DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Work_cancelled_while_it_waits_for_a_slot_never_runs_and_gives_no_slot_away()
    {
        var limiter = new WriteLimiter(1);
        var release = new TaskCompletionSource();
        var holding = limiter.RunAsync("a long merge", () => release.Task.Wait(TimeSpan.FromMinutes(1)));
        while (limiter.Holders.Count == 0) await Task.Delay(10);
        using var stopped = new CancellationTokenSource();
        var ran = false;
        var waiting = limiter.RunAsync("a spill of a stopped writer", () => ran = true, stopped.Token);
        while (limiter.Waiting == 0) await Task.Delay(10);

        stopped.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, limiter.Waiting);
        release.SetResult();
        Assert.True(await holding);
        Assert.False(ran);
        Assert.Equal(7, await limiter.RunAsync("the next merge", () => 7));
    }

    [Fact]
    public async Task Work_that_throws_gives_its_slot_back()
    {
        var limiter = new WriteLimiter(1);
        await Assert.ThrowsAsync<IOException>(() => limiter.RunAsync<int>("a write to a full disk", () => throw new IOException("No space left on device")));
        Assert.Equal(1, await limiter.RunAsync("the next write", () => 1));
    }

    [Fact]
    public async Task It_is_idle_only_once_work_and_clean_up_under_way_have_finished()
    {
        var limiter = new WriteLimiter(1);
        Assert.True(await limiter.WhenIdleAsync(TimeSpan.Zero));
        var finishWrite = new TaskCompletionSource();
        var finishCleanUp = new TaskCompletionSource();
        var write = limiter.RunAsync("a part half-written", () => finishWrite.Task.Wait(TimeSpan.FromMinutes(1)));
        var cleanUp = limiter.CleanUp(() => finishCleanUp.Task.Wait(TimeSpan.FromMinutes(1)));

        var idle = limiter.WhenIdleAsync(TimeSpan.FromMinutes(1));
        Assert.False(await limiter.WhenIdleAsync(TimeSpan.FromMilliseconds(50)));
        finishWrite.SetResult();
        await write;
        Assert.False(idle.IsCompleted && await idle);
        finishCleanUp.SetResult();
        await cleanUp;

        Assert.True(await idle);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
