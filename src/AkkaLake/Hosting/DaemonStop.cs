using AkkaLake.Actors.Daemon;

namespace AkkaLake.Hosting;

/// <summary>How a daemon whose host stopped before its job said so ends: well only when somebody asked it to stop.</summary>
public static class DaemonStop
{
    /// <param name="signal">The signal that asked it to stop, if one did.</param>
    /// <param name="cancelled">The caller (a command run in-process) cancelled it.</param>
    /// <param name="actorSystemEnded">The actor system had terminated when the host stopped.</param>
    public static DaemonOutcome Outcome(string? signal, bool cancelled, bool actorSystemEnded) =>
        signal is not null || cancelled
            ? new DaemonOutcome(true, null)
            : new DaemonOutcome(false, actorSystemEnded
                ? "the actor system ended although nobody asked the daemon to stop"
                : "the host stopped although nobody asked the daemon to stop (a hosted service stopped it)");
}
