namespace CriOci.PodSandbox.Containers;

/// <summary>
/// The profile RuntimeDefault gets on an AppArmor node. Its rules are those of containerd's
/// default (contrib/apparmor): everything a container normally does is allowed, while mounts,
/// writes to the kernel's knobs under /proc and /sys, and the firmware, kcore, sysrq and LSM
/// files are denied; signals and ptrace stay among the container's own processes, plus signals
/// from unconfined host processes (the kubelet's, the runtime's).
/// </summary>
public static class AppArmorDefaultProfile
{
    public const string Name = "crioci-default";

    public static string Generate(string name = Name) => $$"""
        #include <tunables/global>

        profile {{name}} flags=(attach_disconnected,mediate_deleted) {
          #include <abstractions/base>

          network,
          capability,
          file,
          umount,

          # Signals: from unconfined host processes (runtime, kubelet, an operator's kill) and
          # among this profile's own processes; the named runtimes for hosts that confine them.
          signal (receive) peer=unconfined,
          signal (receive) peer=runc,
          signal (receive) peer=crun,
          signal (send,receive) peer={{name}},

          # /proc: no writes to files directly in /proc, nor below it outside /proc/<pid>/ and
          # /proc/sys/kernel/shm*; sysrq-trigger and kcore not at all.
          deny @{PROC}/* w,
          deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
          deny @{PROC}/sys/[^k]** w,
          deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
          deny @{PROC}/sysrq-trigger rwklx,
          deny @{PROC}/kcore rwklx,

          deny mount,

          # /sys: nothing writable outside /sys/fs/cgroup; firmware, powercap and securityfs hidden.
          deny /sys/[^f]*/** wklx,
          deny /sys/f[^s]*/** wklx,
          deny /sys/fs/[^c]*/** wklx,
          deny /sys/fs/c[^g]*/** wklx,
          deny /sys/fs/cg[^r]*/** wklx,
          deny /sys/firmware/** rwklx,
          deny /sys/devices/virtual/powercap/** rwklx,
          deny /sys/kernel/security/** rwklx,

          # The container's processes may trace each other (yama and the other LSMs permitting).
          ptrace (trace,read,tracedby,readby) peer={{name}},
        }

        """;
}
