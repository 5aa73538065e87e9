using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Reliability;

/// <summary>Where the lake lives: symlinked roots, and a directory the service user may not write.</summary>
[Collection(PostgresCollection.Name)]
public class PathTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Hot_and_cold_roots_behind_symlinks_work_like_plain_directories()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(30));
        using var dir = new TempDirectory();
        Directory.CreateSymbolicLink(dir.Combine("hot"), Directory.CreateDirectory(dir.Combine("volume", "hot")).FullName);
        Directory.CreateSymbolicLink(dir.Combine("nas"), Directory.CreateDirectory(dir.Combine("volume", "nas")).FullName);
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, coldPath: dir.Combine("nas"), hotPath: dir.Combine("hot"));

        lake.RunOnce();
        var day = lake.Manifest.Metrics.Partitions.Keys.Min()!;
        Assert.Equal(0, CliRunner.Run(lake.Args("move-partition", "--date", day, "--to", "cold")).ExitCode);
        lake.RunOnce();

        Assert.Equal(LakeLocation.Cold, lake.Manifest.Metrics.Partitions[day].Location);
        Assert.NotEmpty(Directory.GetFiles(dir.Combine("volume", "nas"), "*.parquet", SearchOption.AllDirectories));
        await lake.AssertLakeEqualsSourceAsync(source);
        Assert.Equal(0, CliRunner.Run(lake.Args("verify")).ExitCode);
    }

    [Fact]
    public async Task A_lake_directory_the_service_user_cannot_write_is_a_clear_error_that_changes_nothing()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, DateTimeOffset.UtcNow.AddHours(-5), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(10));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2);
        lake.RunOnce();
        var manifestFile = Path.Combine(lake.HotPath, "_state", "manifest.json");
        var before = File.ReadAllBytes(manifestFile);
        await source.InsertStampedNowAsync(10, DateTimeOffset.UtcNow.AddMinutes(-30), DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(1));

        // Root ignores file modes, so the daemon runs as an unprivileged user that owns everything but the lake.
        Chown("nobody", lake.DataRoot);
        Chown("root", lake.HotPath);
        using var cliCopy = new TempDirectory();
        var cli = CopyOfTheCli(cliCopy);
        var denied = RunAs("nobody", cli, lake.Args("run", "--once"));

        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("denied", denied.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(lake.HotPath, denied.Output);
        Assert.Equal(before, File.ReadAllBytes(manifestFile));

        // Once the operator fixes the ownership, the same user catches up.
        Chown("nobody", lake.HotPath);
        Assert.Equal(0, RunAs("nobody", cli, lake.Args("run", "--once")).ExitCode);
        Chown("root", lake.DataRoot);
        await lake.AssertLakeEqualsSourceAsync(source);
    }

    private static void Chown(string user, string path) => ChildProcess.Run("chown", ["-R", user, path]);

    private static (int ExitCode, string Output) RunAs(string user, string cli, string[] args) =>
        ChildProcess.Run("runuser", ["-u", user, "--", "env", "HOME=/tmp", "dotnet", Path.Combine(cli, "akkalake.dll"), .. args]);

    /// <summary>A copy of the CLI any user can run: the build output may sit where others cannot read (a clone under /root).</summary>
    private static string CopyOfTheCli(TempDirectory into)
    {
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
            File.Copy(file, into.Combine(Path.GetFileName(file)));
        if (Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64")))
            ChildProcess.Run("cp", ["-r", "--parents", Path.Combine("runtimes", "linux-x64"), into.Path], AppContext.BaseDirectory);
        ChildProcess.Run("chmod", ["-R", "a+rX", into.Path]);
        return into.Path;
    }
}
