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
}
