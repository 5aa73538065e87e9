using System.Text.Json;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.State;

/// <summary>
/// What the running daemon says of itself that the lake's files cannot: whether replication is
/// running (<c>_state/daemon.json</c>). Written when that changes; <c>akkalake status</c> believes
/// it only while the process that wrote it holds the writer lock.
/// </summary>
/// <param name="ReplicationDown">Why replication is not running; null while it runs.</param>
public sealed record DaemonState(int Pid, DateTimeOffset UpdatedAt, string? ReplicationDown)
{
    public const string FileName = "daemon.json";

    /// <summary>The state the daemon holding the lock (<paramref name="pid"/>) wrote; null when there is none of its own.</summary>
    public static DaemonState? LoadFor(string statePath, int? pid)
    {
        var path = Path.Combine(statePath, FileName);
        try
        {
            if (pid is null || !File.Exists(path)) return null;
            var state = JsonSerializer.Deserialize<DaemonState>(File.ReadAllBytes(path), LakeJson.Options);
            return state?.Pid == pid ? state : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Save(string statePath) =>
        AtomicFile.WriteAllBytes(Path.Combine(statePath, FileName), JsonSerializer.SerializeToUtf8Bytes(this, LakeJson.Options));
}
