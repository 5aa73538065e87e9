using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Tests.Support;

/// <summary>Tests in this collection share one PostgreSQL server; xunit wants the definition in the test assembly.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
