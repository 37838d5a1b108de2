using System.Reflection;
using Chroma.Protocol.V1;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Binds every gRPC service of the server the way Grpc.AspNetCore's own binder does (through the
/// generated <c>BindService</c>), but with request deserializers that turn a message Google.Protobuf
/// refuses (invalid UTF-8, truncation, bad lengths) into <c>InvalidArgument</c> naming the field,
/// where the stock binder logs an unhandled exception and answers <c>Unknown</c>. A bad
/// <see cref="LogBatch"/> does not even end its stream: it arrives marked and is rejected by ack
/// (<see cref="PartialLogBatchDecoder"/>: its undecodable records listed with its other invalid ones).
/// </summary>
/// <typeparam name="TService">The service implementation type.</typeparam>
internal sealed class ValidatingServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bind = FindBindMethod();
        if (bind is null)
        {
            return;
        }

        // The generated BindService only reads the service instance to build handlers; with null
        // it still hands over every method definition, which is all the binder needs.
        bind.Invoke(null, [new Binder(context), null]);
    }

    private static MethodInfo? FindBindMethod()
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } attribute)
            {
                return attribute.BindType.GetMethod(
                    attribute.BindMethodName,
                    BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                    [typeof(ServiceBinderBase), type]);
            }
        }

        return null;
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Guarded(method), [], Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method, typeof(TRequest), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Guarded(method), [], Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(
                method, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Guarded(method), [], Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(
                method, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Guarded(method), [], Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(
                method, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        // An open-instance delegate to the service's implementation of the method (the override).
        private static TDelegate Invoker<TDelegate>(IMethod method, params Type[] parameters)
            where TDelegate : Delegate =>
            (typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name}."))
            .CreateDelegate<TDelegate>();

        private static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, GuardedMarshaller(method.RequestMarshaller), method.ResponseMarshaller);

        private static Marshaller<T> GuardedMarshaller<T>(Marshaller<T> inner)
            where T : class
        {
            if (!typeof(IMessage).IsAssignableFrom(typeof(T)))
            {
                return inner;
            }

            var descriptor = ((IMessage)Activator.CreateInstance<T>()).Descriptor;
            return new Marshaller<T>(inner.ContextualSerializer, deserialization =>
            {
                try
                {
                    return inner.ContextualDeserializer(deserialization);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    var payload = deserialization.PayloadAsReadOnlySequence();
                    var problem = MalformedFieldLocator.FindInvalidUtf8(payload, descriptor)
                        ?? $"request: is not a valid {descriptor.FullName} message ({ex.Message})";
                    if (typeof(T) == typeof(LogBatch))
                    {
                        // Record by record, so one undecodable record is listed with the batch's other invalid ones.
                        return (T)(object)PartialLogBatchDecoder.Decode(payload, problem);
                    }

                    throw new RpcException(new Status(StatusCode.InvalidArgument, problem));
                }
            });
        }
    }
}
