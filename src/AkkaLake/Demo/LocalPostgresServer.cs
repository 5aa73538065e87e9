using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AkkaLake.Demo;

/// <summary>
/// A throwaway PostgreSQL server in a private data directory on a free loopback port, for the
/// demo and the tests. PostgreSQL refuses to run as root, so as root the server runs as the
/// <c>postgres</c> user. Disposing stops it and deletes its data.
/// </summary>
public sealed class LocalPostgresServer : IDisposable
{
    private readonly string _binDir;
    private readonly string _root;
    private readonly string? _runAs;

    private readonly IReadOnlyDictionary<string, string> _environment;

    private LocalPostgresServer(string binDir, string root, int port, string? runAs, IReadOnlyDictionary<string, string> environment)
    {
        _environment = environment;
        _binDir = binDir;
        _root = root;
        Port = port;
        _runAs = runAs;
    }

    public int Port { get; }
    public string DataDirectory => Path.Combine(_root, "data");
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Timeout=30";

    /// <summary>Initialises and starts a server; throws with what to install when binaries are missing.</summary>
    /// <param name="environment">Extra environment for the server processes (tests use it to run the server under libfaketime).</param>
    public static LocalPostgresServer Start(IReadOnlyDictionary<string, string>? environment = null)
    {
        var binDir = FindBinaries() ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries found (initdb, pg_ctl). Install PostgreSQL 15 (Debian: apt-get install postgresql; macOS: brew install postgresql@15) or set AKKALAKE_PG_BIN to their directory.");
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var root = Directory.CreateTempSubdirectory("akkalake-pg-").FullName;
        var server = new LocalPostgresServer(binDir, root, FreePort(), runAs, environment ?? new Dictionary<string, string>());
        try
        {
            server.Initialise();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public static string? FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("AKKALAKE_PG_BIN") is { Length: > 0 } explicitDir)
            return explicitDir;
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        candidates.AddRange(["/opt/homebrew/opt/postgresql@15/bin", "/usr/local/opt/postgresql@15/bin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"]);
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private void Initialise()
    {
        if (_runAs is not null)
            Run("chown", ["-R", _runAs, _root], asServerUser: false);
        Run(Path.Combine(_binDir, "initdb"), ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        StartServer();
    }

    /// <summary>Starts the server again after <see cref="StopServer"/>, on the same port and data.</summary>
    public void StartServer()
    {
        var options = $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c max_prepared_transactions=10";
        Run(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDirectory, "-o", options, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "start"]);
    }

    /// <summary>Stops the server as an administrator's restart would: open sessions are cut off.</summary>
    public void StopServer() => Run(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "stop"]);

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
                Run(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void Run(string file, IReadOnlyList<string> args, bool asServerUser = true)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asServerUser && _runAs is not null)
        {
            start.FileName = "runuser";
            foreach (var a in new[] { "-u", _runAs, "--", file }) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = file;
        }
        foreach (var a in args) start.ArgumentList.Add(a);
        if (asServerUser)
            foreach (var (name, value) in _environment) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed with exit code {process.ExitCode}: {stderr.Result}{stdout.Result}");
    }

    /// <summary>A loopback port nothing listens on now.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
