namespace CriOci.ImageStore;

/// <summary>What CRI ImageFsInfo reports for the image filesystem.</summary>
/// <param name="Mountpoint">The store's root directory.</param>
/// <param name="UsedBytes">Apparent size of every file under the root.</param>
/// <param name="InodesUsed">Files, directories, links and device nodes under the root.</param>
public sealed record ImageFilesystemUsage(string Mountpoint, long UsedBytes, long InodesUsed);
