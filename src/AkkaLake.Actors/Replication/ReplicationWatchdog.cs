using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Source;
using AkkaLake.Core.Storage;
using Npgsql;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// Gives every wait of replication a deadline. The replication actor tells it each stage it
/// enters (planning, exporting, writing, committing, idle), its batch writer each sign of progress
/// (a chunk read, a spill or flush done), and the actor each failed or good cycle. When a stage
/// makes no progress for <c>stall-after-seconds</c>, it finds out what the stage waits on (our
/// PostgreSQL sessions and who blocks them, the write slots and who holds them, the coordinator's
/// file work) and, when that is a real hold-up rather than PostgreSQL working on a long read,
/// tells the daemon that replication is stuck and why; the same when cycles keep failing for as
/// long. Progress, or a good cycle, clears it.
/// </summary>
public sealed class ReplicationWatchdog : ReceiveActor, IWithTimers
{
    /// <summary>The replication actor entered a stage; <see cref="Stage.Idle"/> waits for nothing.</summary>
    public sealed record Entered(Stage Stage, string What);

    public enum Stage
    {
        Idle,
        Planning,
        Exporting,
        Committing,
    }

    /// <summary>Rows came from PostgreSQL, or a writer spilled or flushed: the stage goes on.</summary>
    public sealed record Progressed
    {
        public static readonly Progressed Instance = new();
    }

    /// <summary>A cycle failed with this error (in words); a good one clears the streak. Either way replication waits for its next tick.</summary>
    public sealed record CycleFailed(string Error);

    public sealed record CycleSucceeded
    {
        public static readonly CycleSucceeded Instance = new();
    }

    /// <summary>Told to the daemon: why replication is stuck, or null once it goes on.</summary>
    public sealed record Stuck(string? Reason);

    private sealed record Check
    {
        public static readonly Check Instance = new();
    }

    private sealed record Diagnosed(string Reason, bool Stuck, long Epoch);

    private readonly IActorRef? _listener;
    private readonly IActorRef _coordinator;
    private readonly TimeSpan _stallAfter;
    private readonly NpgsqlDataSource _probe;
    private readonly string _applicationName;
    private readonly WriteLimiter _limiter;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Stage _stage = Stage.Idle;
    private string _what = "";
    private DateTimeOffset _lastProgress = DateTimeOffset.UtcNow;
    private (DateTimeOffset Since, int Count, string Error)? _failing;
    private string? _reported;
    private string? _saidSlow;
    private bool _diagnosing;
    // Bumped by every stage and progress, so a diagnosis begun before them is dropped.
    private long _epoch;

    public ReplicationWatchdog(IActorRef? listener, IActorRef coordinator, TimeSpan stallAfter, string connectionString)
    {
        _listener = listener;
        _coordinator = coordinator;
        _stallAfter = stallAfter;
        // Its own pool of one, with a short timeout: the probe must answer even when replication's connections wait.
        _probe = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1, Timeout = 10, CommandTimeout = 10 }.ConnectionString);
        _applicationName = new NpgsqlConnectionStringBuilder(connectionString).ApplicationName ?? "";
        _limiter = WriteLimits.For(Context.System);

        Receive<Entered>(e => Enter(e.Stage, e.What));
        Receive<Progressed>(_ => Progress());
        Receive<CycleFailed>(f =>
        {
            _failing = (_failing?.Since ?? DateTimeOffset.UtcNow, (_failing?.Count ?? 0) + 1, f.Error);
            Enter(Stage.Idle, "waiting to try again");
        });
        Receive<CycleSucceeded>(_ =>
        {
            _failing = null;
            Enter(Stage.Idle, "waiting for the next tick");
        });
        Receive<Check>(_ => CheckNow());
        Receive<Diagnosed>(d =>
        {
            _diagnosing = false;
            if (d.Epoch != _epoch) return;
            if (d.Stuck) Report(d.Reason);
            else if (_saidSlow != d.Reason)
            {
                _saidSlow = d.Reason;
                _log.Info("Replication is waiting: {Reason}", d.Reason);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef? listener, IActorRef coordinator, TimeSpan stallAfter, string connectionString) =>
        Akka.Actor.Props.Create(() => new ReplicationWatchdog(listener, coordinator, stallAfter, connectionString));

    protected override void PreStart() =>
        Timers.StartPeriodicTimer("check", Check.Instance, TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _stallAfter.Ticks / 6)));

    protected override void PostStop() => _probe.Dispose();

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, "watching replication", message);

    private void Enter(Stage stage, string what)
    {
        _stage = stage;
        _what = what;
        Progress();
    }

    private void Progress()
    {
        _epoch++;
        _lastProgress = DateTimeOffset.UtcNow;
        if (_failing is null) Report(null);
    }

    private void CheckNow()
    {
        var now = DateTimeOffset.UtcNow;
        if (_failing is { } f && now - f.Since >= _stallAfter)
        {
            Report($"every attempt for {(now - f.Since).TotalSeconds:0} s failed ({f.Count} attempts); the last: {f.Error}");
            return;
        }
        if (_stage == Stage.Idle || _diagnosing || now - _lastProgress < _stallAfter) return;
        _diagnosing = true;
        var waited = $"{_what}: no progress for {(now - _lastProgress).TotalSeconds:0} s";
        var epoch = _epoch;
        (_stage switch
        {
            Stage.Committing => _coordinator.Ask<CoordinatorStatus>(GetStatus.Instance, TimeSpan.FromSeconds(10))
                .ContinueWith(t => t.IsCompletedSuccessfully
                    ? new Diagnosed($"{waited}; the coordinator has been {t.Result.Mode} for {(now - t.Result.Since).TotalSeconds:0} s (file work on the lake's disks)", true, epoch)
                    : new Diagnosed($"{waited}; the coordinator does not answer", true, epoch), TaskScheduler.Default),
            _ => DiagnoseSourceAsync(waited, epoch),
        }).PipeTo(Self);
    }

    /// <summary>Planning and exporting wait on PostgreSQL, or (writing) on a write slot.</summary>
    private async Task<Diagnosed> DiagnoseSourceAsync(string waited, long epoch)
    {
        if (_limiter.Waiting > 0)
            return new Diagnosed($"{waited}; waiting for a write slot: {_limiter.Describe(DateTimeOffset.UtcNow)}", true, epoch);
        try
        {
            await using var connection = await _probe.OpenConnectionAsync();
            var waits = await SessionWaits.ReadAsync(connection, _applicationName, CancellationToken.None);
            if (waits.FirstOrDefault(w => w.Stuck) is { } blocked) return new Diagnosed($"{waited}; {blocked.Description}", true, epoch);
            if (waits.Count > 0) return new Diagnosed($"{waited}; {waits[0].Description}", false, epoch);
            return new Diagnosed($"{waited}; AkkaLake has no active query in PostgreSQL, and {_limiter.Describe(DateTimeOffset.UtcNow)}", true, epoch);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or OperationCanceledException)
        {
            return new Diagnosed($"{waited}; {SourceProblem.Describe(e, DatabaseUrl.Describe(_probe.ConnectionString))}", true, epoch);
        }
    }

    private void Report(string? reason)
    {
        if (reason == _reported) return;
        if (reason is not null)
            _log.Error("Replication is stuck: {Reason}", reason);
        else
            _log.Info("Replication goes on again");
        _reported = reason;
        _saidSlow = null;
        _listener?.Tell(new Stuck(reason));
    }
}
