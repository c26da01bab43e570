namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>One ordered record of the calls every fake received, so tests can check order across fakes.</summary>
internal sealed class CallLog
{
    private readonly List<string> _calls = [];

    public void Add(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public void Clear()
    {
        lock (_calls)
        {
            _calls.Clear();
        }
    }
}
