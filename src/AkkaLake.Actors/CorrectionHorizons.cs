using Akka.Actor;
using AkkaLake.Core.Compaction;

namespace AkkaLake.Actors;

/// <summary>The daemon's one <see cref="CorrectionHorizon"/>: the batch writers observe it, compaction plans with it.</summary>
public sealed class CorrectionHorizons : ExtensionIdProvider<CorrectionHorizons.Extension>
{
    public sealed class Extension : IExtension
    {
        public CorrectionHorizon Horizon { get; } = new();
    }

    public override Extension CreateExtension(ExtendedActorSystem system) => new();

    public static CorrectionHorizon For(ActorSystem system) => system.WithExtension<Extension, CorrectionHorizons>().Horizon;

    /// <summary><paramref name="policy"/> with the horizon learned so far, unless it fixes one.</summary>
    public static CompactionPolicy Applied(ActorSystem system, CompactionPolicy policy, DateTimeOffset now) =>
        policy.Horizon is null ? policy with { Horizon = For(system).Current(now) } : policy;
}
