using AkkaLake.Testing;
using Npgsql;
using Xunit;

namespace AkkaLake.Tests.Support;

[Collection(PostgresCollection.Name)]
public class PostgresSmokeTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Tests_get_a_real_postgresql_server_with_a_private_database()
    {
        var cs = await postgres.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int", connection);
        var version = (int)(await command.ExecuteScalarAsync())!;
        Assert.True(version >= 150000, $"PostgreSQL 15 or newer expected, got {version}");
    }
}
