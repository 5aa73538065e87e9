using AkkaLake.Core.Source;
using Npgsql;
using Xunit;

namespace AkkaLake.Core.Tests.Source;

public class DatabaseUrlTests
{
    [Fact]
    public void A_postgres_url_becomes_a_connection_string()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgres://farm:s%40cret@db.local:5433/farmdash?sslmode=disable"));
        Assert.Equal(("db.local", 5433, "farmdash", "farm", "s@cret"), (b.Host, b.Port, b.Database, b.Username, b.Password));
        Assert.Equal(SslMode.Disable, b.SslMode);
        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgresql://u@h/d")).Port);
    }

    [Fact]
    public void A_connection_string_is_taken_as_it_is()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("Host=h;Port=1;Username=u;Password=p;Database=d"));
        Assert.Equal(("h", 1, "d"), (b.Host, b.Port, b.Database));
    }

    [Fact]
    public void A_value_that_is_neither_is_a_clear_error() =>
        Assert.Contains("neither", Assert.Throws<ArgumentException>(() => DatabaseUrl.ToConnectionString("definitely not=;;=")).Message);

    [Fact]
    public void The_description_for_logs_never_has_the_password()
    {
        var described = DatabaseUrl.Describe(DatabaseUrl.ToConnectionString("postgres://farm:topsecret@db:5432/farm"));
        Assert.Equal("postgres://farm@db:5432/farm", described);
        Assert.DoesNotContain("topsecret", described);
    }
}
