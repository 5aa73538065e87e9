namespace AkkaLake.Core.Source;

/// <summary>A window's rows read a chunk at a time, by blocking calls on one thread.</summary>
public interface IChunkReader : IDisposable
{
    /// <summary>The next chunk, or null once the window is read to its end.</summary>
    SourceChunk? Next();

    /// <summary>Stops the read from any thread; a <see cref="Next"/> waiting for rows then throws.</summary>
    void Cancel();
}
