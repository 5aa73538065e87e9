using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Tests.Support;

/// <summary>A lake in a temp directory, driven through the real CLI, read back with DuckDB.</summary>
public sealed class LakeUnderTest : IDisposable
{
    private readonly TempDirectory _dir = new();

    public LakeUnderTest(string databaseUrl, int shards = 4, int lagSeconds = 0, string? coldPath = null, string extraConfig = "", string? hotPath = null)
    {
        HotPath = hotPath ?? _dir.Combine("hot");
        DatabaseUrl = databaseUrl;
        Shards = shards;
        ColdPath = coldPath;
        ConfigFile = _dir.Combine("akkalake.conf");
        _lagSeconds = lagSeconds;
        Reconfigure(extraConfig);
    }

    private readonly int _lagSeconds;

    /// <summary>
    /// Rewrites the lake's configuration file, as an operator changing settings between runs would.
    /// A first backfill reads a day at a time unless a test says otherwise: left to the estimates,
    /// the choice would turn on whether autovacuum has analyzed the table yet. Re-sent readings are
    /// placed at every tick unless a test says otherwise, so a test waits for them no longer than a tick.
    /// </summary>
    public void Reconfigure(string extraConfig) =>
        File.WriteAllText(ConfigFile, $"akkalake {{ replication-lag-seconds = {_lagSeconds}, replication-interval-seconds = 10, first-backfill-read = by-day, hold-corrections-seconds = 0\n{extraConfig} }}");

    public string DataRoot => _dir.Path;
    public string HotPath { get; }
    public string? ColdPath { get; }
    public string LogFile => Directory.GetFiles(Path.Combine(DataRoot, "logs"), "akkalake-*.json").Single();
    public string DatabaseUrl { get; }
    public int Shards { get; }
    public string ConfigFile { get; }

    public string[] Args(params string[] command)
    {
        var args = new List<string>(command) { "--config", ConfigFile, "--data-root", DataRoot, "--hot-path", HotPath, "--shards", Shards.ToString(), "--database-url", DatabaseUrl };
        if (ColdPath is not null) args.AddRange(["--cold-path", ColdPath]);
        return [.. args];
    }

    /// <summary>The command as an operator who forgot <c>--cold-path</c> would run it.</summary>
    public string[] ArgsWithoutColdPath(params string[] command) =>
        ColdPath is null ? Args(command) : [.. Args(command).SkipLast(2)];

    public CliResult RunOnce()
    {
        var result = CliRunner.Run(Args("run", "--once"));
        Assert.True(result.ExitCode == 0, $"run --once failed ({result.ExitCode}): {result.Error}{result.Output}");
        return result;
    }

    public LakeManifest Manifest => new ManifestStore(Path.Combine(HotPath, "_state")).Load()!;

    public IReadOnlyList<LakeRow> Rows() => LakeDuckDb.ReadManifest(Manifest, HotPath, ColdPath);

    /// <summary>Every committed file: in the directory its rows' date and shard name, sorted, with the manifest's row count.</summary>
    public void AssertFilesAreWellFormed()
    {
        foreach (var f in Manifest.Files())
        {
            var path = LakeLayout.Resolve(f.Location == LakeLocation.Hot ? HotPath : ColdPath!, f.RelativePath);
            var rows = LakeDuckDb.ReadFile(path);
            Assert.Equal(f.File.Rows, rows.Count);
            Assert.Equal(f.File.Bytes, new FileInfo(path).Length);
            for (var i = 0; i < rows.Count; i++)
            {
                Assert.Equal(f.Date, DateOnly.FromDateTime(rows[i].Ts));
                Assert.Equal(f.Shard, ShardHasher.Shard(rows[i].SensorId, Shards));
                if (i > 0)
                    Assert.True(Core.Parquet.MetricRows.CompareKeys(rows[i - 1].SensorId, Timestamps.ToMicros(rows[i - 1].Ts), rows[i].SensorId, Timestamps.ToMicros(rows[i].Ts)) < 0,
                        $"{f.RelativePath} is not sorted at row {i}");
            }
        }
    }

    /// <summary>DuckDB over the committed lake returns exactly the rows Postgres has: none missing, none twice, same values.</summary>
    public async Task AssertLakeEqualsSourceAsync(SourceDatabase source, DateTimeOffset? tsFrom = null)
    {
        var expected = await source.RowsAsync(tsFrom);
        var actual = Rows()
            .Select(r => (r.SensorId, Timestamps.ToMicros(r.Ts), r.Value, r.Quality, r.Samples, r.Source))
            .OrderBy(r => r.SensorId, StringComparer.Ordinal).ThenBy(r => r.Item2)
            .ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Select(r => (r.Item1, r.Item2)).Distinct().Count(), actual.Select(r => (r.SensorId, r.Item2)).Distinct().Count());
        Assert.Equal(expected, actual);
    }

    /// <summary>Waits for a running daemon to bring the lake level with PostgreSQL; fails with the last difference seen.</summary>
    public async Task EventuallyEqualsSourceAsync(SourceDatabase source, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await AssertLakeEqualsSourceAsync(source);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    public void Dispose() => _dir.Dispose();
}
