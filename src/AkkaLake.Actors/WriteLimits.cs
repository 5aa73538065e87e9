using Akka.Actor;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors;

/// <summary>
/// The actor system's one <see cref="WriteLimiter"/>, shared by every actor that does heavy file
/// work (shard-day writers, compaction), so the bound holds for the whole daemon. A test that wants
/// another registers it with <see cref="Use"/> before its actors start.
/// </summary>
public sealed class WriteLimits : ExtensionIdProvider<WriteLimits.Extension>
{
    public sealed class Extension(WriteLimiter limiter) : IExtension
    {
        public WriteLimiter Limiter { get; } = limiter;
    }

    public override Extension CreateExtension(ExtendedActorSystem system) => new(new WriteLimiter());

    public static WriteLimiter For(ActorSystem system) => system.WithExtension<Extension, WriteLimits>().Limiter;

    /// <summary>Makes <paramref name="limiter"/> the system's, if the system has none yet.</summary>
    public static WriteLimiter Use(ActorSystem system, WriteLimiter limiter) => ((Extension)system.RegisterExtension(new Given(limiter))).Limiter;

    private sealed class Given(WriteLimiter limiter) : ExtensionIdProvider<Extension>
    {
        public override Extension CreateExtension(ExtendedActorSystem system) => new(limiter);
    }
}
