namespace CriOci.Core;

/// <summary>
/// Base of the domain errors every layer throws. Only the CRI server maps them to gRPC status
/// codes, so lower layers never depend on gRPC.
/// </summary>
public abstract class CriOciException : Exception
{
    protected CriOciException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The named object (pod, container, image, blob) does not exist.</summary>
public sealed class NotFoundException(string message, Exception? inner = null) : CriOciException(message, inner);

/// <summary>An object with that name or ID exists already.</summary>
public sealed class AlreadyExistsException(string message) : CriOciException(message);

/// <summary>The request itself is malformed; the message names the field.</summary>
public sealed class InvalidArgumentException(string message) : CriOciException(message);

/// <summary>The request is well formed but the object is not in a state that allows it.</summary>
public sealed class FailedPreconditionException(string message) : CriOciException(message);

/// <summary>Something outside CriOci (registry, kernel, plugin) failed.</summary>
public sealed class UnavailableException(string message, Exception? inner = null) : CriOciException(message, inner);

/// <summary>The node ran out of something the operation needs (disk space, inodes, quota).</summary>
public sealed class ResourceExhaustedException(string message, Exception? inner = null) : CriOciException(message, inner);

/// <summary>The operation ran past the deadline its caller gave.</summary>
public sealed class DeadlineExceededException(string message) : CriOciException(message);

/// <summary>The request asks for something this node does not support (gRPC UNIMPLEMENTED: "not supported/enabled in this service").</summary>
public sealed class UnimplementedException(string message) : CriOciException(message);
