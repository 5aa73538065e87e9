using AkkaLake.Core;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Npgsql;
using Xunit;

namespace AkkaLake.Tests.Replication;

/// <summary>A pass over the source table read as pieces by several streams: every row once, as of one snapshot.</summary>
[Collection(PostgresCollection.Name)]
public class TablePiecesTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    /// <summary>The whole table, read up to a cursor far ahead: only the snapshot keeps later changes out.</summary>
    private static readonly SourceWindow.BackfillDays Everything =
        new(DateOnly.FromDateTime(T0.UtcDateTime).AddDays(-30), DateOnly.FromDateTime(T0.UtcDateTime), OpenEnded: true, Cursor: T0.AddYears(1));

    [Fact]
    public void Pieces_are_ranges_of_blocks_of_about_equal_size_each_relation_ending_open()
    {
        var pieces = TablePieces.Plan([("metrics_w1", 10_000), ("metrics_w2", 2_000), ("metrics_default", 0)], streams: 2);

        // 12,000 blocks for 8 pieces: 1,500 a piece; each relation's last piece reads to its end, rows added since included.
        Assert.Equal(
            ["metrics_w1 blocks 0-1499", "metrics_w1 blocks 1500-2999", "metrics_w1 blocks 3000-4499", "metrics_w1 blocks 4500-5999", "metrics_w1 blocks 6000-7499",
             "metrics_w1 blocks 7500-8999", "metrics_w1 blocks 9000-end", "metrics_w2 blocks 0-1499", "metrics_w2 blocks 1500-end", "metrics_default blocks 0-end"],
            pieces.Select(p => p.Describe()));
        Assert.Equal("ctid >= '(1500,0)'::tid AND ctid < '(3000,0)'::tid", pieces[1].Condition);
        Assert.Equal("ctid >= '(9000,0)'::tid", pieces[6].Condition);
        // A small table is not cut finer than a read is worth.
        Assert.Single(TablePieces.Plan([("metrics", 800)], streams: 4));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_streams_read_every_row_once_from_a_plain_table_and_from_one_partitioned_by_week(bool partitioned)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-20), T0.AddMinutes(-1), TimeSpan.FromMinutes(10), sensors: 10, bySensor: true);
        if (partitioned) await PartitionByWeekAsync(source, T0.AddDays(-21), T0.AddDays(7));
        await using var data = NpgsqlDataSource.Create(source.ConnectionString);

        var (read, pieces) = await ReadAllAsync(data, streams: 2);

        Assert.Equal(Keys(await source.RowsAsync()), read.Order());
        Assert.True(pieces > (partitioned ? 4 : 2), $"{pieces} pieces");
    }

    [Fact]
    public async Task Rows_inserted_updated_or_deleted_while_the_streams_read_are_neither_doubled_nor_lost()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-5), T0.AddMinutes(-1), TimeSpan.FromMinutes(5), sensors: 10, bySensor: true);
        await using var data = NpgsqlDataSource.Create(source.ConnectionString);
        var before = Keys(await source.RowsAsync());
        await using var connection = await data.OpenConnectionAsync();
        var metrics = new MetricsSource(data, await SourceTable.DescribeAsync(connection, CancellationToken.None), chunkRows: 200);

        using var reader = metrics.OpenPieces(Everything, new RowRouter(2, _ => LakeLocation.Hot), streams: 2, smallestPieceBlocks: 1);
        var read = Keys(reader.Next()!);
        // Under way: another session changes rows in pieces read and not yet read. An update writes
        // the row anew at the table's end, a piece not yet read: outside the snapshot it would be read twice.
        await source.ExecuteAsync("""
            UPDATE metrics SET value = value + 1000, inserted_at = now() WHERE sensor_id IN ('sensor-0000', 'sensor-0005', 'sensor-0009');
            DELETE FROM metrics WHERE sensor_id IN ('sensor-0002', 'sensor-0007');
            INSERT INTO metrics (sensor_id, ts, value, inserted_at) SELECT sensor_id, ts + interval '1 second', -1, now() FROM metrics WHERE sensor_id = 'sensor-0004';
            """);
        while (reader.Next() is { } chunk) read.AddRange(Keys(chunk));

        Assert.NotEqual(before, Keys(await source.RowsAsync()));
        Assert.Equal(before, read.Order());
    }

    [Fact]
    public async Task A_stream_that_fails_fails_the_read_and_stops_the_others()
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-5), T0.AddMinutes(-1), TimeSpan.FromMinutes(5), sensors: 10, bySensor: true);
        await using var data = NpgsqlDataSource.Create(source.ConnectionString);
        await using var connection = await data.OpenConnectionAsync();
        var metrics = new MetricsSource(data, await SourceTable.DescribeAsync(connection, CancellationToken.None), chunkRows: 200);

        using var reader = metrics.OpenPieces(Everything, new RowRouter(2, _ => LakeLocation.Hot), streams: 2, smallestPieceBlocks: 1);
        reader.Next();
        // Most pieces are still to read (the streams wait for the reader): the exporting transaction and the streams' connections go.
        await using (var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection))
            await kill.ExecuteNonQueryAsync();

        var error = Record.Exception(() => { while (reader.Next() is not null) { } });
        Assert.IsAssignableFrom<NpgsqlException>(error is AggregateException a ? a.InnerException : error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_first_backfill_in_two_streams_while_readings_are_inserted_resent_and_deleted_leaves_the_lake_equal_to_postgres(bool partitioned)
    {
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, T0.AddDays(-20), T0.AddMinutes(-1), TimeSpan.FromMinutes(2), sensors: 10, bySensor: true);
        if (partitioned) await PartitionByWeekAsync(source, T0.AddDays(-21), T0.AddDays(7));
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 2, extraConfig: "first-backfill-read = one-pass\nbackfill-streams = 2");

        using var stop = new CancellationTokenSource();
        var changes = Task.Run(async () =>
        {
            for (var round = 0; !stop.IsCancellationRequested; round++)
                await source.ExecuteAsync($"""
                    INSERT INTO sensors VALUES ('live-{round}') ON CONFLICT DO NOTHING;
                    INSERT INTO metrics (sensor_id, ts, value, inserted_at) VALUES ('live-{round}', now() - interval '{round % 50} hours', {round}, now());
                    UPDATE metrics SET value = value + 1, inserted_at = now() WHERE sensor_id = 'sensor-000{round % 10}' AND ts IN (SELECT ts FROM metrics WHERE sensor_id = 'sensor-000{round % 10}' ORDER BY ts DESC OFFSET {round * 7 % 500} LIMIT 3);
                    DELETE FROM metrics WHERE sensor_id = 'sensor-000{(round + 5) % 10}' AND ts IN (SELECT ts FROM metrics WHERE sensor_id = 'sensor-000{(round + 5) % 10}' ORDER BY ts OFFSET {round * 11 % 5000} LIMIT 2);
                    """);
        });
        lake.RunOnce();
        await stop.CancelAsync();
        await changes;

        // What came in after the backfill's snapshot is replicated next; what was deleted, reconciliation finds.
        lake.RunOnce();
        var reconcile = CliRunner.Run(lake.Args("reconcile"));
        Assert.True(reconcile.ExitCode == 0, reconcile.Output + reconcile.Error);
        await lake.AssertLakeEqualsSourceAsync(source);
        lake.AssertFilesAreWellFormed();
    }

    private async Task<(List<(string, long, double)> Rows, int Pieces)> ReadAllAsync(NpgsqlDataSource data, int streams)
    {
        await using var connection = await data.OpenConnectionAsync();
        var table = await SourceTable.DescribeAsync(connection, CancellationToken.None);
        var pieces = TablePieces.Plan(TablePieces.Relations(connection, table, null), streams, smallestBlocks: 1).Count;
        using var reader = new MetricsSource(data, table, chunkRows: 500).OpenPieces(Everything, new RowRouter(2, _ => LakeLocation.Hot), streams, smallestPieceBlocks: 1);
        var rows = new List<(string, long, double)>();
        while (reader.Next() is { } chunk) rows.AddRange(Keys(chunk));
        return (rows, pieces);
    }

    /// <summary>Turns <c>metrics</c> into a table partitioned by week, as a hypertable is by its chunks.</summary>
    private static async Task PartitionByWeekAsync(SourceDatabase source, DateTimeOffset from, DateTimeOffset to)
    {
        var sql = new System.Text.StringBuilder("""
            ALTER TABLE metrics RENAME TO metrics_plain;
            CREATE TABLE metrics (LIKE metrics_plain INCLUDING DEFAULTS) PARTITION BY RANGE (ts);
            CREATE TABLE metrics_default PARTITION OF metrics DEFAULT;
            """);
        for (var (week, n) = (from.UtcDateTime.Date, 0); week < to; week = week.AddDays(7), n++)
            sql.Append($"CREATE TABLE metrics_w{n} PARTITION OF metrics FOR VALUES FROM ('{week:yyyy-MM-dd}') TO ('{week.AddDays(7):yyyy-MM-dd}');\n");
        sql.Append("INSERT INTO metrics SELECT * FROM metrics_plain; DROP TABLE metrics_plain; ALTER TABLE metrics ADD PRIMARY KEY (sensor_id, ts);");
        await source.ExecuteAsync(sql.ToString());
    }

    private static List<(string, long, double)> Keys(IEnumerable<(string Id, long Ts, double Value, int?, int?, string?)> rows) =>
        [.. rows.Select(r => (r.Id, r.Ts, r.Value)).Order()];

    private static List<(string, long, double)> Keys(SourceChunk chunk)
    {
        var keys = new List<(string, long, double)>();
        foreach (var rows in chunk.Rows.ByShardDay.Values.SelectMany(blocks => blocks))
            for (var i = 0; i < rows.Count; i++)
                keys.Add((rows.SensorIds[i], rows.TsMicros[i], rows.Values[i]));
        return keys;
    }
}
