using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;

namespace AkkaLake.Actors.Coordinator;

/// <summary>
/// Keeps <c>replication.json</c>, which mirrors the manifest's watermark and says how the last
/// run went. Each run, committed or failed, is applied to the state in memory (a pure step,
/// <see cref="RunReport.ApplyTo"/>) and the whole state written off the actor's thread, after the
/// lake's other file work. A write that fails is logged; the manifest holds the watermark, and the
/// next run writes the whole state again.
/// </summary>
internal sealed class ReplicationStateWriter : ReceiveActor
{
    /// <param name="Error">Why the run did not commit; null when it did.</param>
    public sealed record Record(RunReport Report, LakeManifest Manifest, string? Error);

    private sealed record Saved
    {
        public static readonly Saved Instance = new();
    }

    private sealed record SaveFailed(Exception Error);

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ReplicationStateWriter(LakeChanges changes, SerialWork work, ReplicationState? loaded, int lateWindowHours)
    {
        var state = loaded;
        Receive<Record>(r =>
        {
            var next = r.Report.ApplyTo(state, r.Manifest, lateWindowHours, r.Error);
            state = next;
            work.Then(() =>
                {
                    changes.SaveState(next);
                    return Saved.Instance;
                })
                .PipeTo(Self, success: saved => saved, failure: e => new SaveFailed(e));
        });
        Receive<Saved>(_ => { });
        Receive<SaveFailed>(f => _log.Warning("Could not write replication.json: {Error}; the manifest holds the watermark, and the next run writes the file again", f.Error.Cause().Message));
    }

    public static Props Props(LakeChanges changes, SerialWork work, ReplicationState? loaded, int lateWindowHours) =>
        Akka.Actor.Props.Create(() => new ReplicationStateWriter(changes, work, loaded, lateWindowHours));

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, "keeping replication.json", message);
}
