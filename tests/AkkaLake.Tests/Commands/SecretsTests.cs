using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

/// <summary>A database password never reaches the console, the logs or an error, and a malformed setting never starts the daemon.</summary>
// Runs a daemon in this process: Akka.Logger.Serilog writes to Serilog's static logger, which each
// daemon points at its own log, so daemons in one process take turns (as the PostgreSQL tests do).
[Collection(PostgresCollection.Name)]
public class SecretsTests
{
    private const string Secret = "s3cretPassw0rd";

    private static string Everything(CliResult result, TempDirectory dir) =>
        result.Output + result.Error + string.Concat(Directory.Exists(dir.Combine("logs"))
            ? Directory.GetFiles(dir.Combine("logs"), "*", SearchOption.AllDirectories).Select(File.ReadAllText)
            : []);

    [Theory]
    [InlineData($"postgres://bob:{Secret}@127.0.0.1:notaport/x")]
    [InlineData($"postgres://bob:{Secret}@[not-a-host/x")]
    [InlineData("not a url at all")]
    [InlineData($"Host=127.0.0.1;Password={Secret};Bogus Key=1")]
    public void A_malformed_database_setting_is_a_settings_error_naming_the_setting_and_nothing_starts(string url)
    {
        using var dir = new TempDirectory();

        var result = CliRunner.Run("run", "--once", "--data-root", dir.Path, "--database-url", url);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("database-url", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain(Secret, Everything(result, dir));
        Assert.False(Directory.Exists(dir.Combine("storage")), "the lake was opened");
    }

    [Fact]
    public void A_password_in_a_valid_url_to_an_unreachable_server_shows_nowhere()
    {
        using var dir = new TempDirectory();

        var result = CliRunner.Run("run", "--once", "--data-root", dir.Path, "--database-url", $"postgres://bob:{Secret}@127.0.0.1:1/x");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("reading the database", result.Error);
        Assert.DoesNotContain(Secret, Everything(result, dir));
    }
}
