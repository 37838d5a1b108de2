using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Chroma.Server.Validation.Internal;
using Grpc.Core;

namespace Chroma.Server.Services.Internal;

/// <summary>Checks and converts query arguments, throwing the RpcException the caller should see.</summary>
internal static class QueryArguments
{
    /// <summary>The page size when a request says 0.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>The largest k of FindNearest.</summary>
    public const int MaxNeighbors = 1000;

    /// <summary>The set named by <paramref name="setId"/>: InvalidArgument when empty, NotFound when unknown.</summary>
    public static StoredEmbeddingSet RequireSet(IRecordStore store, string setId)
    {
        if (setId.Length == 0)
        {
            throw ValidationError.Invalid("set_id: is required").ToRpcException();
        }

        if (Utf8Text.Check(setId) is { } problem)
        {
            throw ValidationError.Invalid($"set_id: {problem}").ToRpcException();
        }

        return store.FindSet(setId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"set_id: embedding set {SetDescriptorValidator.Quote(setId)} not found"));
    }

    /// <summary>The selection a filter describes.</summary>
    public static RecordSelection Selection(RecordFilter? filter, LimitsOptions limits)
    {
        ThrowIfInvalid(RecordFilterValidator.Validate(filter, limits));
        return filter is null
            ? RecordSelection.All
            : new RecordSelection(filter.Dataset.Length == 0 ? null : filter.Dataset, filter.Metadata);
    }

    /// <summary>The page size of a request: 0 means <see cref="DefaultPageSize"/>.</summary>
    public static int PageSize(int requested, LimitsOptions limits)
    {
        if (requested == 0)
        {
            return Math.Min(DefaultPageSize, limits.MaxPageSize);
        }

        return requested < 1 || requested > limits.MaxPageSize
            ? throw ValidationError.Invalid(
                $"page_size: must be between 1 and {limits.MaxPageSize} (0 = default {DefaultPageSize}), got {requested}").ToRpcException()
            : requested;
    }

    /// <summary>One canonical id, normalized; a problem names <paramref name="field"/> (a single value, no index).</summary>
    public static string RecordId(string id, string field)
    {
        ThrowIfInvalid(RecordIdFormat.Validate(id, field));
        return RecordIdFormat.Normalize(id);
    }

    /// <summary>Canonical, normalized, de-duplicated ids.</summary>
    public static IReadOnlyList<string> RecordIds(IReadOnlyList<string> ids, int maxCount, string field = "ids")
    {
        ThrowIfInvalid(RecordIdListValidator.Validate(ids, maxCount, field));
        return [.. ids.Select(RecordIdFormat.Normalize).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Throws <paramref name="error"/> as an RpcException when it is not null.</summary>
    public static void ThrowIfInvalid(ValidationError? error)
    {
        if (error is not null)
        {
            throw error.ToRpcException();
        }
    }
}
