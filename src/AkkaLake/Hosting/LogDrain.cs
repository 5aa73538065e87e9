using Serilog.Core;
using Serilog.Events;

namespace AkkaLake.Hosting;

/// <summary>
/// Tells when a given log line has reached Serilog. Akka hands log events to Serilog through an
/// actor and stops that actor ahead of its queue at shutdown, so the daemon logs a last line
/// and waits for it here: every event logged before it has been written by then.
/// </summary>
public sealed class LogDrain : ILogEventSink
{
    private readonly object _gate = new();
    private (string Marker, TaskCompletionSource Seen)? _waiting;

    public void Emit(LogEvent logEvent)
    {
        lock (_gate)
        {
            if (_waiting is { } w && logEvent.RenderMessage().Contains(w.Marker, StringComparison.Ordinal))
                w.Seen.TrySetResult();
        }
    }

    public Task Expect(string marker)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _waiting = (marker, seen);
        return seen.Task;
    }
}
