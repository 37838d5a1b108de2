using Grpc.Core;

namespace Chroma.Server.Validation;

/// <summary>Why a request was refused: the status to answer with and a message naming the field.</summary>
/// <param name="Code">The gRPC status code (InvalidArgument, AlreadyExists, ...).</param>
/// <param name="Message">Human-readable, starting with the field path, e.g. <c>records[3].embedding[17]: value is NaN</c>.</param>
/// <param name="RecordIndex">Index of the first offending record, or -1 when the problem is the request itself.</param>
internal sealed record ValidationError(StatusCode Code, string Message, int RecordIndex = -1)
{
    /// <summary>
    /// Gets every offending record of a batch, in index order, when the batch validator checked them all
    /// (the first is this error itself); empty when the problem is the request itself or only one record was named.
    /// </summary>
    public IReadOnlyList<ValidationError> RecordErrors { get; init; } = [];

    /// <summary>Gets the server's limit of records per batch when the batch was refused for exceeding it, else 0.</summary>
    public int MaxBatchRecords { get; init; }

    /// <summary>An InvalidArgument error.</summary>
    public static ValidationError Invalid(string message, int recordIndex = -1) =>
        new(StatusCode.InvalidArgument, message, recordIndex);

    /// <summary>The error as an exception for unary calls.</summary>
    public RpcException ToRpcException() => new(new Status(Code, Message));
}
