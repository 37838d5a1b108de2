using Grpc.Core;

namespace Chroma.Server.Security;

/// <summary>
/// Why <see cref="ApiKeyCheck.Authorize"/> refused a gRPC call: the status to answer (<c>Unauthenticated</c> for a
/// missing or wrong key, <c>ResourceExhausted</c> for an address over the wrong-key limit) and, for the latter, how long
/// the address stays refused.
/// </summary>
internal sealed record ApiKeyRefusal(Status Status, TimeSpan? RetryAfter);
