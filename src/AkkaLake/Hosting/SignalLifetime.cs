using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace AkkaLake.Hosting;

/// <summary>
/// The daemon host's lifetime in place of .NET's console lifetime: SIGTERM, SIGINT and SIGQUIT
/// stop the host in order, and are remembered as a stop somebody asked for. Any other stop of the
/// host (the actor system ending, a hosted service stopping it) is not, and the daemon exits non-zero.
/// </summary>
public sealed class SignalLifetime(IHostApplicationLifetime application) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private string? _askedBy;

    /// <summary>The signal that asked the daemon to stop; null while none has.</summary>
    public string? AskedBy => Volatile.Read(ref _askedBy);

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _registrations.Add(PosixSignalRegistration.Create(signal, Stop));
        return Task.CompletedTask;
    }

    private void Stop(PosixSignalContext context)
    {
        // The host stops in order instead of the runtime ending the process now.
        context.Cancel = true;
        Interlocked.CompareExchange(ref _askedBy, Name(context.Signal), null);
        application.StopApplication();
    }

    private static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGQUIT => "SIGQUIT",
        _ => signal.ToString(),
    };

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
