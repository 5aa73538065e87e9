using Akka.Actor;
using Akka.Event;

namespace AkkaLake.Actors;

/// <summary>A message an actor's current mode has no handler for is a defect of the code: said as one, never dropped silently.</summary>
public static class Defects
{
    public static void Unhandled(ILoggingAdapter log, IActorRef self, string mode, object message) =>
        log.Error("Defect: {Actor} got a {Message} while {Mode}, which that mode does not expect; it was dropped", self.Path.Name, message.GetType().Name, mode);
}
