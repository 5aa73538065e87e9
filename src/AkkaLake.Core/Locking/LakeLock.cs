using System.Text.Json;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Locking;

public sealed class LakeLockedException(string message) : Exception(message);

/// <summary>Who holds the lake, as written beside the lock for the next writer's error message.</summary>
public sealed record LockHolder(int Pid, string Command, string Host, DateTimeOffset Since);

/// <summary>
/// The single-writer lock on a lake: an exclusive OS lock on <c>_state/writer.lock</c>, held while
/// the process lives and released by the kernel when it dies, so a crash never leaves a stale lock.
/// The holder is recorded in <c>_state/writer.json</c> so a second writer can be told who it is.
/// </summary>
public sealed class LakeLock : IDisposable
{
    public const string LockFileName = "writer.lock";
    public const string HolderFileName = "writer.json";

    private readonly FileStream _handle;
    private readonly string _holderPath;

    private LakeLock(FileStream handle, string holderPath)
    {
        _handle = handle;
        _holderPath = holderPath;
    }

    /// <summary>
    /// A status probe (<see cref="Holder"/>) holds a shared lock for an instant; a writer that meets
    /// one tries again for this long before it takes the lake to be in use by another writer.
    /// </summary>
    private static readonly TimeSpan ProbeGrace = TimeSpan.FromSeconds(2);

    public static LakeLock Acquire(string statePath, string command) => Acquire(statePath, command, ProbeGrace);

    /// <summary>As <see cref="Acquire(string, string)"/>, waiting out a status probe's shared lock for up to <paramref name="probeGrace"/>.</summary>
    internal static LakeLock Acquire(string statePath, string command, TimeSpan probeGrace)
    {
        Directory.CreateDirectory(statePath);
        var lockPath = Path.Combine(statePath, LockFileName);
        var holderPath = Path.Combine(statePath, HolderFileName);
        var until = DateTime.UtcNow + probeGrace;
        FileStream handle;
        while (true)
        {
            try
            {
                // FileShare.None makes .NET take an exclusive flock on Unix.
                handle = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (IOException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(50);
            }
            catch (IOException)
            {
                throw new LakeLockedException(DescribeHolder(statePath, holderPath));
            }
        }
        var holder = new LockHolder(Environment.ProcessId, command, Environment.MachineName, DateTimeOffset.UtcNow);
        AtomicFile.WriteAllBytes(holderPath, JsonSerializer.SerializeToUtf8Bytes(holder, LakeJson.Options));
        return new LakeLock(handle, holderPath);
    }

    public void Dispose()
    {
        try { File.Delete(_holderPath); } catch (IOException) { }
        _handle.Dispose();
    }

    /// <summary>
    /// Who holds the lake now, or null when nobody does. Probes the OS lock without taking it for
    /// longer than the probe, and never creates a file.
    /// </summary>
    public static LockHolder? Holder(string statePath)
    {
        var lockPath = Path.Combine(statePath, LockFileName);
        if (!File.Exists(lockPath)) return null;
        try
        {
            // A shared lock: it conflicts with the writer's exclusive one, not with another probe.
            using (new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.Read)) return null;
        }
        catch (IOException)
        {
            try
            {
                return JsonSerializer.Deserialize<LockHolder>(File.ReadAllBytes(Path.Combine(statePath, HolderFileName)), LakeJson.Options)
                    ?? new LockHolder(0, "unknown", "unknown", DateTimeOffset.MinValue);
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                return new LockHolder(0, "unknown", "unknown", DateTimeOffset.MinValue);
            }
        }
    }

    private static string DescribeHolder(string statePath, string holderPath)
    {
        try
        {
            var holder = JsonSerializer.Deserialize<LockHolder>(File.ReadAllBytes(holderPath), LakeJson.Options);
            if (holder is not null)
                return $"The lake at {statePath} is in use by another AkkaLake writer: pid {holder.Pid} ('{holder.Command}' on {holder.Host}, since {Timestamps.Format(holder.Since)}). Stop it first (for the daemon: launchctl bootout).";
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
        }
        return $"The lake at {statePath} is in use by another AkkaLake writer (its pid is not recorded yet). Stop it first.";
    }
}
