namespace Chroma.Server.Hosting.Internal;

/// <summary>Log messages of the server's lifecycle.</summary>
internal static partial class ServerLog
{
    // The key itself is never logged, only whether one is required.
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Chroma server listening on {Endpoint} (storage: {Storage}, data: {DataDirectory}, API key required: {ApiKeyRequired})")]
    public static partial void Listening(ILogger logger, Uri endpoint, string storage, string dataDirectory, bool apiKeyRequired);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Chroma Studio (web app) at {Endpoint}")]
    public static partial void StudioListening(ILogger logger, Uri endpoint);

    // Security.ApiKeyStrength.Warning: says the key's length, never the key.
    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void WeakApiKey(ILogger logger, string warning);
}
