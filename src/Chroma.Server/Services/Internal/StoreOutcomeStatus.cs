using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Grpc.Core;

namespace Chroma.Server.Services.Internal;

/// <summary>The gRPC status of each way the store can refuse a write (the store itself knows no status codes).</summary>
internal static class StoreOutcomeStatus
{
    /// <summary>The status code a client sees for <paramref name="kind"/>.</summary>
    public static StatusCode CodeOf(IngestRejectionKind kind) => kind switch
    {
        IngestRejectionKind.DimensionMismatch => StatusCode.InvalidArgument,
        IngestRejectionKind.MetricMismatch => StatusCode.FailedPrecondition,
        IngestRejectionKind.ZeroVector => StatusCode.InvalidArgument,
        IngestRejectionKind.ConflictingRecord => StatusCode.AlreadyExists,
        IngestRejectionKind.UnstorableValue => StatusCode.InvalidArgument,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown ingest rejection"),
    };

    /// <summary>The rejection as the error an ack carries.</summary>
    public static ValidationError ToValidationError(IngestRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        return new ValidationError(CodeOf(rejection.Kind), rejection.Message, rejection.RecordIndex)
        {
            RecordErrors = [.. rejection.RecordRejections.Select(r => new ValidationError(CodeOf(r.Kind), r.Message, r.RecordIndex))],
        };
    }
}
