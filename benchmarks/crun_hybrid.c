/* crun 1.8.1 refuses a hybrid cgroup host (v1 controllers beside cgroup2 at
 * /sys/fs/cgroup/unified). This runs crun in a mount namespace of its own
 * where that cgroup2 mount is gone, and nothing else changes:
 *
 *     crun-hybrid PROGRAM [ARG...]
 *
 * The benchmark measures this wrapper alone (PROGRAM = /bin/true) and
 * reports crun's figures without it. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: crun-hybrid PROGRAM [ARG...]\n");
        return 2;
    }
    if (unshare(CLONE_NEWNS) < 0
            || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0
            || (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0
                && access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)) {
        perror("crun-hybrid");
        return 125;
    }
    execvp(argv[1], argv + 1);
    perror("crun-hybrid: exec");
    return 127;
}
