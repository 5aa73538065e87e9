using System.Net.Sockets;
using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>What went wrong talking to PostgreSQL, in words an operator acts on instead of the driver's ("Exception while reading from stream").</summary>
public static class SourceProblem
{
    /// <param name="server">Where the database is, without the password (<see cref="DatabaseUrl.Describe"/>).</param>
    public static string Describe(Exception error, string server)
    {
        var socket = Find<SocketException>(error);
        if (error is PostgresException pg) return Postgres(pg, server);
        if (Find<PostgresException>(error) is { } inner) return Postgres(inner, server);
        if (socket is not null)
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"PostgreSQL at {server} is unreachable: nothing accepts connections there (is the server running?)",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"PostgreSQL at {server} is unreachable: its host name does not resolve",
                SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable => $"PostgreSQL at {server} is unreachable: no answer from its host",
                SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => $"PostgreSQL at {server} closed the connection (it restarted, or the network dropped)",
                _ => $"PostgreSQL at {server} is unreachable: {socket.Message}",
            };
        if (Find<TimeoutException>(error) is not null)
            return $"PostgreSQL at {server} did not answer in time ({error.Message})";
        if (error is NpgsqlException { InnerException: IOException or EndOfStreamException } or EndOfStreamException)
            return $"PostgreSQL at {server} closed the connection (it restarted, or the network dropped)";
        return error.Message;
    }

    private static string Postgres(PostgresException e, string server) => e.SqlState switch
    {
        PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
            $"PostgreSQL at {server} refused the login: {e.MessageText} (check the password in database_url and pg_hba.conf)",
        PostgresErrorCodes.InvalidCatalogName => $"PostgreSQL at {server} has no such database: {e.MessageText}",
        PostgresErrorCodes.CannotConnectNow => $"PostgreSQL at {server} is starting up or shutting down",
        PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown => $"PostgreSQL at {server} was shut down while AkkaLake read from it",
        PostgresErrorCodes.TooManyConnections => $"PostgreSQL at {server} has no connection to spare: {e.MessageText}",
        PostgresErrorCodes.InsufficientPrivilege => $"PostgreSQL at {server} refused: {e.MessageText} (the role in database_url needs SELECT on metrics)",
        PostgresErrorCodes.QueryCanceled => $"PostgreSQL at {server} cancelled the query: {e.MessageText}",
        PostgresErrorCodes.UndefinedTable => $"PostgreSQL at {server}: {e.MessageText} (is this the controller's database?)",
        _ => $"PostgreSQL at {server}: {e.MessageText}",
    };

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T found) return found;
        return null;
    }
}
