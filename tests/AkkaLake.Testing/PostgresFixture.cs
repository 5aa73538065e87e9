using AkkaLake.Demo;
using AkkaLake.Core.Source;
using Npgsql;
using Xunit;

namespace AkkaLake.Testing;

/// <summary>
/// One real PostgreSQL for a test assembly: the server named by AKKALAKE_TEST_DATABASE_URL
/// (a connection string to a database the tests may create databases from), or else a
/// throwaway local server started here and removed afterwards. Each test gets its own database.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ExistingServerVariable = "AKKALAKE_TEST_DATABASE_URL";

    private LocalPostgresServer? _server;
    private string _adminConnectionString = "";
    private int _databases;

    public Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(ExistingServerVariable) is { Length: > 0 } existing)
        {
            _adminConnectionString = existing;
        }
        else
        {
            _server = LocalPostgresServer.Start();
            _adminConnectionString = _server.ConnectionString;
        }
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        _server?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Creates an empty database for one test and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"akkalake_test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await using (var admin = new NpgsqlConnection(_adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }
}
