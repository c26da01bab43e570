using CriOci.OciRuntime.Linux;
using CriOci.PodSandbox.Namespaces;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// Runs a short piece of work inside a pod's network namespace. setns(CLONE_NEWNET) changes
/// only the calling thread, so the work gets a dedicated thread that is thrown away afterwards
/// and never returns to the pool in the wrong namespace. Sockets created there stay in the
/// pod's namespace for their whole life, whichever thread uses them later.
/// </summary>
internal static class NetworkNamespaceThread
{
    public static Task<T> RunAsync<T>(string networkNamespacePath, Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                NamespaceCalls.EnterNetworkNamespace(networkNamespacePath);
                completion.SetResult(work());
            }
            catch (Exception exception)
            {
                completion.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "crioci-netns",
        };
        thread.Start();
        return completion.Task;
    }

    public static T Run<T>(string networkNamespacePath, Func<T> work) => RunAsync(networkNamespacePath, work).GetAwaiter().GetResult();
}
