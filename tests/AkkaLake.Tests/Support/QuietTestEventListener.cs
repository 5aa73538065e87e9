using Akka.Event;
using Akka.TestKit;

namespace AkkaLake.Tests.Support;

/// <summary>
/// The TestKit's event listener (so <c>EventFilter</c> works) without its copy of every log line
/// on the console; the test's own output gets them (<see cref="LakeTestKit"/>).
/// </summary>
public sealed class QuietTestEventListener : TestEventListener
{
    protected override void Print(LogEvent logEvent)
    {
    }
}
