using AkkaLake.Demo;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Reliability;

/// <summary>
/// The controller's clock set back between ticks. The watermark is computed from the database's
/// clock alone, so PostgreSQL runs under libfaketime, reading its offset from a file. (The daemon
/// itself cannot: libfaketime breaks .NET's timed waits.)
/// </summary>
[Collection(PostgresCollection.Name)]
public class ClockTests
{
    private const string LibFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    [FactNeedingFile(LibFaketime, "apt-get install faketime")]
    public async Task A_clock_set_back_holds_the_watermark_and_warns_and_the_rebuild_it_advises_recovers_the_rows_stamped_meanwhile()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("libfaketime is Linux-only here.");
        using var dir = new TempDirectory();
        // The server runs as the postgres user and reads the offset file too.
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var offset = dir.Combine("clock-offset");
        File.WriteAllText(offset, "+0");
        var clock = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = LibFaketime,
            ["FAKETIME_TIMESTAMP_FILE"] = offset,
            ["FAKETIME_NO_CACHE"] = "1",
            ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1",
        };
        using var server = LocalPostgresServer.Start(clock);
        var source = new SourceDatabase(server.ConnectionString);
        await using (var c = await source.OpenAsync())
            await SampleReadings.CreateSchemaAsync(c);
        var t0 = DateTimeOffset.UtcNow;
        await source.InsertStampedNowAsync(0, t0.AddHours(-3), t0.AddMinutes(-40), TimeSpan.FromMinutes(5));
        using var lake = new LakeUnderTest(server.ConnectionString, shards: 2);
        lake.RunOnce();
        var watermark = lake.Manifest.Metrics.ComputedThroughTs!.Value;

        // Set back an hour: rows written now are stamped an hour before the watermark.
        File.WriteAllText(offset, "-1h");
        await source.InsertStampedNowAsync(10, t0.AddMinutes(-30), t0.AddMinutes(-1), TimeSpan.FromMinutes(1));
        lake.RunOnce();
        Assert.Equal(watermark, lake.Manifest.Metrics.ComputedThroughTs);
        Assert.Contains("it was set back", File.ReadAllText(lake.LogFile));

        // Put right, the watermark moves on, but past rows it had already covered.
        File.WriteAllText(offset, "+0");
        lake.RunOnce();
        Assert.True(lake.Manifest.Metrics.ComputedThroughTs > watermark);
        Assert.True(lake.Rows().Count < (await source.RowsAsync()).Count);

        // The rebuild the warning names recovers them, without doubling anything.
        var from = LakeLayout.DateKey(DateOnly.FromDateTime(t0.AddMinutes(-30).UtcDateTime));
        var to = LakeLayout.DateKey(DateOnly.FromDateTime(t0.UtcDateTime));
        var rebuild = CliRunner.Run(lake.Args("backfill", "--from", from, "--to", to, "--replace"));
        Assert.True(rebuild.ExitCode == 0, rebuild.Output + rebuild.Error);
        await lake.AssertLakeEqualsSourceAsync(source);
    }
}
