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

    // Once at start: the server creates its data directory 0700, but leaves the modes of one the operator made alone.
    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "The data directory {DataDirectory} can be entered by every local user (mode {Mode}), so its records, labels and notes can be read wherever a file's own mode allows it; 'chmod 700' it unless that is intended")]
    public static partial void DataDirectoryOpenToOthers(ILogger logger, string dataDirectory, string mode);
}
