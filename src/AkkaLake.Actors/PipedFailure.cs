namespace AkkaLake.Actors;

public static class PipedFailure
{
    /// <summary>The exception that actually happened: work piped back from a task arrives wrapped in an AggregateException.</summary>
    public static Exception Cause(this Exception error) =>
        error is AggregateException { InnerException: { } inner } ? inner : error;
}
