using Microsoft.Extensions.Logging;

namespace CriOci.PodSandbox;

/// <summary>
/// Undo steps recorded right after each acquisition and replayed in reverse when the
/// operation fails (CRI-O's ResourceCleaner), so a failed RunPodSandbox or CreateContainer
/// leaves nothing behind.
/// </summary>
internal sealed class Rollback(ILogger logger)
{
    private readonly Stack<(string Description, Func<Task> Undo)> _steps = new();

    public void Push(string description, Action undo) => _steps.Push((description, () =>
    {
        undo();
        return Task.CompletedTask;
    }));

    public void Push(string description, Func<Task> undo) => _steps.Push((description, undo));

    /// <summary>The operation succeeded: keep everything.</summary>
    public void Commit() => _steps.Clear();

    public async Task RunAsync()
    {
        while (_steps.TryPop(out var step))
        {
            try
            {
                await step.Undo().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.RollbackStepFailed(logger, step.Description, exception);
            }
        }
    }
}
