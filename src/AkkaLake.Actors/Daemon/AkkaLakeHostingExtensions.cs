using Akka.Hosting;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Daemon;

/// <summary>Marker for the daemon's root actor in the Akka.Hosting registry.</summary>
public sealed class LakeDaemonActor;

public static class AkkaLakeHostingExtensions
{
    public static AkkaConfigurationBuilder AddLakeDaemon(this AkkaConfigurationBuilder builder, LakeSettings settings, ReplicationJob job,
        DaemonListener listener, IFaultPoints? faults = null) =>
        builder.WithActors((system, registry) =>
            registry.Register<LakeDaemonActor>(system.ActorOf(LakeDaemon.Props(settings, job, listener, faults), "lake")));
}
