namespace CriOci.PodSandbox.Namespaces;

/// <summary>CLONE_NEW* values for the namespaces a pod owns (sched.h).</summary>
internal static class CloneFlags
{
    public const int Ipc = 0x8000000;
    public const int Uts = 0x4000000;
    public const int Network = 0x40000000;
}
