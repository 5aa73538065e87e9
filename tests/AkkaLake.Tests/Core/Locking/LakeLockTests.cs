using AkkaLake.Testing;
using AkkaLake.Core.Locking;
using Xunit;

namespace AkkaLake.Core.Tests.Locking;

public class LakeLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_second_writer_is_refused_naming_the_holders_pid_and_command()
    {
        using (LakeLock.Acquire(_dir.Path, "run"))
        {
            var e = Assert.Throws<LakeLockedException>(() => LakeLock.Acquire(_dir.Path, "backfill"));
            Assert.Contains($"pid {Environment.ProcessId}", e.Message);
            Assert.Contains("'run'", e.Message);
        }
        using (LakeLock.Acquire(_dir.Path, "backfill"))
        {
        }
    }

    [Fact]
    public async Task A_status_probe_holding_its_shared_lock_at_the_instant_a_writer_starts_only_delays_the_writer()
    {
        using (LakeLock.Acquire(_dir.Path, "run")) { }
        LakeLock acquired;
        // The probe's shared lock, held as a probe holds it, but across the writer's first attempt.
        using (var probe = new FileStream(Path.Combine(_dir.Path, LakeLock.LockFileName), FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            // A grace no load outlasts: the writer can only end by taking the lock, never by giving up first.
            var writer = Task.Run(() => LakeLock.Acquire(_dir.Path, "run", TimeSpan.FromMinutes(5)));
            await Task.Delay(200);
            Assert.False(writer.IsCompleted);
            probe.Dispose();
            acquired = await writer;
        }
        using (acquired)
            Assert.Equal(Environment.ProcessId, LakeLock.Holder(_dir.Path)?.Pid);
    }
}
