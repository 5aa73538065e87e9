using Akka.Streams;
using AkkaLake.Actors.Replication;
using AkkaLake.Demo;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AkkaLake.Tests.Replication;

/// <summary>The export graph against PostgreSQL: every row once, in chunks, and a stop that ends the COPY at once.</summary>
[Collection(PostgresCollection.Name)]
public class SourceExportTests(PostgresFixture postgres, ITestOutputHelper output) : LakeTestKit(output)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private async Task<(SourceDatabase Source, NpgsqlDataSource Data, SourceTable Table)> SourceWithReadingsAsync()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddHours(-3), T0.AddMinutes(-1), TimeSpan.FromSeconds(30), sensors: 10);
        var data = NpgsqlDataSource.Create(source.ConnectionString);
        await using var connection = await data.OpenConnectionAsync();
        return (source, data, await SourceTable.DescribeAsync(connection, CancellationToken.None));
    }

    private IMaterializer ExportMaterializer => Sys.Materializer(SourceExport.MaterializerSettings(Sys));

    private SourceExport Start(NpgsqlDataSource data, SourceTable table, int chunkRows = 1000)
    {
        var metrics = new MetricsSource(data, table, chunkRows);
        var window = new SourceWindow.Inserted(T0.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        return SourceExport.Start(() => metrics.Open(window, new RowRouter(4, _ => LakeLocation.Hot)), ExportMaterializer);
    }

    [Fact]
    public async Task The_export_pulls_every_row_once_in_chunks_and_then_ends()
    {
        var (source, data, table) = await SourceWithReadingsAsync();
        await using var _ = data;
        var export = Start(data, table);

        var chunks = 0;
        long rows = 0;
        while (await export.NextAsync() is { } chunk)
        {
            chunks++;
            rows += chunk.Rows.Count;
        }

        Assert.Equal((await source.RowsAsync()).Count, rows);
        Assert.True(chunks > 1, $"{rows} rows in {chunks} chunks");
        Assert.Null(await export.NextAsync());
    }

    [Fact]
    public async Task Disposing_an_export_stops_its_copy_at_once_even_while_postgres_is_still_producing_rows()
    {
        var (source, data, table) = await SourceWithReadingsAsync();
        await using var _ = data;
        await source.ServeThroughSlowViewAsync(TimeSpan.FromMilliseconds(20));
        var export = Start(data, table, chunkRows: 100_000);

        await using var admin = await source.OpenAsync();
        async Task<long> RunningCopies()
        {
            await using var count = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY (SELECT%' AND pid <> pg_backend_pid()", admin);
            return (long)(await count.ExecuteScalarAsync())!;
        }
        await AwaitAssertAsync(async () => Assert.Equal(1, await RunningCopies()), TimeSpan.FromSeconds(10));

        // The first chunk would take minutes (about 3,600 rows at 20 ms each); the stop does not wait for it.
        await export.DisposeAsync();

        await AwaitAssertAsync(async () => Assert.Equal(0, await RunningCopies()), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task An_export_reads_no_more_chunks_ahead_of_its_consumer_than_its_read_ahead()
    {
        var reader = new EndlessReader();
        await using var export = SourceExport.Start(() => reader, ExportMaterializer);

        await AwaitConditionAsync(() => Task.FromResult(reader.Reads >= 1), TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        // Any more is rows held that the writers' row budget does not count.
        Assert.InRange(reader.Reads, 1, SourceExport.ChunksAhead);

        Assert.NotNull(await export.NextAsync());
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.InRange(reader.Reads, 2, SourceExport.ChunksAhead + 1);
    }

    [Fact]
    public void An_export_refuses_a_materializer_that_would_read_far_ahead()
    {
        var error = Assert.Throws<ArgumentException>(() => SourceExport.Start(() => new EndlessReader(), Sys.Materializer()));
        Assert.Contains("MaterializerSettings", error.Message);
    }

    /// <summary>Chunks without end, counting how many were read.</summary>
    private sealed class EndlessReader : IChunkReader
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public SourceChunk? Next()
        {
            Interlocked.Increment(ref _reads);
            return new SourceChunk(new RoutedRows(new Dictionary<ShardDay, IReadOnlyList<Core.Parquet.MetricRows>>(), 0, new Dictionary<ShardDay, LakeLocation>()),
                new SkippedRows(), 0, 0, null);
        }

        public void Cancel()
        {
        }

        public void Dispose()
        {
        }
    }
}
