using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>POSIX threads (pthread.h; part of libc since glibc 2.34).</summary>
internal static unsafe partial class LibC
{
    /// <summary>pthread_create(3) with default attributes; returns an errno value, not -1.</summary>
    [LibraryImport("libc")]
    public static partial int pthread_create(out nuint thread, void* attributes, delegate* unmanaged<nint, nint> start, nint argument);

    /// <summary>pthread_join(3); returns an errno value, not -1.</summary>
    [LibraryImport("libc")]
    public static partial int pthread_join(nuint thread, nint* result);
}
