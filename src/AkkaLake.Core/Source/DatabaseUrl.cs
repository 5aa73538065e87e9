using AkkaLake.Core.Configuration;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>
/// The database setting in either form the controller uses: a URL
/// (<c>postgres://user:pass@host:5432/db?sslmode=require</c>) or an Npgsql connection string.
/// </summary>
public static class DatabaseUrl
{
    /// <summary>This process's sessions in <c>pg_stat_activity</c>, unless the setting names its own.</summary>
    public static readonly string ApplicationName = $"akkalake-{Environment.ProcessId}";

    /// <summary>
    /// The Npgsql connection string of a lake's database setting, the one check that there is
    /// one: a missing or malformed setting is a settings error that never repeats the value.
    /// </summary>
    public static string ConnectionStringOf(LakeSettings settings)
    {
        if (settings.DatabaseUrl is null)
            throw new SettingsException(["No database is configured: pass --database-url, set CORE_DATABASE_URL, or put database_url in setup/config.json under the data root."]);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ToConnectionString(settings.DatabaseUrl));
            // Named, so a DBA (and the watchdog) can tell AkkaLake's sessions; probed by TCP (not on a Unix socket), so a dead peer ends a read.
            builder.ApplicationName ??= ApplicationName;
            if (!builder.TcpKeepAlive && builder.Host is { } host && !host.StartsWith('/'))
            {
                builder.TcpKeepAlive = true;
                builder.TcpKeepAliveTime = 30;
                builder.TcpKeepAliveInterval = 10;
            }
            return builder.ConnectionString;
        }
        catch (ArgumentException e)
        {
            throw new SettingsException([$"database-url (--database-url, CORE_DATABASE_URL or database_url in setup/config.json): {e.Message}"]);
        }
    }

    /// <summary>The Npgsql connection string; an <see cref="ArgumentException"/> whose message never repeats the value (it may hold a password).</summary>
    public static string ToConnectionString(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(value).ConnectionString;
            }
            catch (ArgumentException)
            {
                throw new ArgumentException("The database setting is neither a postgres://user:password@host:port/database URL nor a valid connection string (Host=…;Port=…;Database=…).");
            }
        }
        try
        {
            return FromUrl(value);
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ArgumentException($"The database URL is not valid ({Reason(e)}); expected postgres://user:password@host:port/database?sslmode=….");
        }
    }

    // UriFormatException says what is wrong without the URL; other messages may quote it.
    private static string Reason(Exception e) => e is UriFormatException ? e.Message.TrimEnd('.') : "a part of it cannot be read";

    /// <summary>For logs and error messages: where it points without the password, or that it is not shown.</summary>
    public static string Redacted(string? value)
    {
        if (value is null) return "";
        try
        {
            return Describe(ToConnectionString(value));
        }
        catch (ArgumentException)
        {
            return "(not valid; not shown)";
        }
    }

    private static string FromUrl(string value)
    {
        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var val = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = val;
        }
        return builder.ConnectionString;
    }

    /// <summary>Where it points, for logs: host, port, database and user, never the password.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"postgres://{(b.Username is { Length: > 0 } u ? u + "@" : "")}{b.Host}:{b.Port}/{b.Database}";
    }
}
