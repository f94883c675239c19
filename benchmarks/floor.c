/* The floor of a `run`: the least work that makes a container of a bundle's
 * rootfs and runs a program in it, with no runtime around it.
 *
 *     floor [--cgroups] ROOTFS PROGRAM [ARG...]
 *
 * fork; unshare mount, uts, ipc, pid and net namespaces; fork pid 1; the
 * mounts of runc's default config (rootfs bind, proc, /dev tmpfs, devpts,
 * /dev/shm, mqueue, sysfs read-only); pivot_root; exec. The parent waits
 * and returns the program's exit status. With --cgroups the container also
 * gets a directory in every cgroup hierarchy under /sys/fs/cgroup, is moved
 * there before it executes the program, and the directories are removed
 * afterwards: on a cgroup v1 host that move is the costliest step of all
 * (cgroup.procs waits for an RCU grace period). No error recovery beyond
 * exiting 125: this measures, it is not a runtime. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { perror(#x); _exit(125); } } while (0)

static char groups[32][600];
static int ngroups;

static void copy_file(const char *from, const char *to, const char *name)
{
    char path[1024], text[256];
    snprintf(path, sizeof path, "%.500s/%s", from, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text);
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof path, "%.500s/%s", to, name);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && n > 0 && write(fd, text, n) < 0) { /* left empty */ }
    if (fd >= 0)
        close(fd);
}

static void make_cgroups(pid_t self)
{
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) && ngroups < 32) {
        char path[512];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/sys/fs/cgroup/%.256s", e->d_name);
        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;           /* cpu, cpuacct: links to cpu,cpuacct */
        snprintf(groups[ngroups], sizeof groups[0], "%.500s/floor-%d", path, (int)self);
        if (mkdir(groups[ngroups], 0755) < 0)
            continue;
        if (strcmp(e->d_name, "cpuset") == 0) {
            copy_file(path, groups[ngroups], "cpuset.cpus");
            copy_file(path, groups[ngroups], "cpuset.mems");
        }
        ngroups++;
    }
    closedir(d);
}

static void join_cgroups(pid_t pid)
{
    char path[700], text[16];
    int n = snprintf(text, sizeof text, "%d", (int)pid);
    for (int i = 0; i < ngroups; i++) {
        snprintf(path, sizeof path, "%.590s/cgroup.procs", groups[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, text, n) < 0) { /* cpuset without cpus: skipped */ }
            close(fd);
        }
    }
}

static void mount_at(const char *rootfs, const char *source, const char *target,
                     const char *type, unsigned long flags, const char *data)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", rootfs, target);
    mkdir(path, 0755);
    CHECK(mount(source, path, type, flags, data));
}

static void container(const char *rootfs, char **argv)
{
    const unsigned long hard = MS_NOSUID | MS_NOEXEC | MS_NODEV;
    CHECK(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL));
    CHECK(mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL));
    mount_at(rootfs, "proc", "/proc", "proc", hard, NULL);
    mount_at(rootfs, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
             "mode=755,size=65536k");
    mount_at(rootfs, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620");
    mount_at(rootfs, "shm", "/dev/shm", "tmpfs", hard, "mode=1777,size=65536k");
    mount_at(rootfs, "mqueue", "/dev/mqueue", "mqueue", hard, NULL);
    mount_at(rootfs, "sysfs", "/sys", "sysfs", hard | MS_RDONLY, NULL);
    CHECK(chdir(rootfs));
    CHECK(syscall(SYS_pivot_root, ".", "."));
    CHECK(umount2(".", MNT_DETACH));
    CHECK(chdir("/"));
    execv(argv[0], argv);
    perror("execv");
    _exit(127);
}

int main(int argc, char **argv)
{
    int cgroups = argc > 1 && strcmp(argv[1], "--cgroups") == 0;
    int sync[2], status;
    char go;
    if (argc < 3 + cgroups) {
        fprintf(stderr, "usage: floor [--cgroups] ROOTFS PROGRAM [ARG...]\n");
        return 2;
    }
    const char *rootfs = argv[1 + cgroups];
    char **program = argv + 2 + cgroups;
    CHECK(pipe2(sync, O_CLOEXEC));
    if (cgroups)
        make_cgroups(getpid());
    pid_t stage1 = fork();
    CHECK(stage1);
    if (stage1 == 0) {
        CHECK(unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID
                      | CLONE_NEWNET));
        close(sync[1]);
        if (read(sync[0], &go, 1) != 1)     /* placed in the cgroups */
            _exit(125);
        pid_t init = fork();
        CHECK(init);
        if (init == 0)
            container(rootfs, program);
        CHECK(waitpid(init, &status, 0));
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    close(sync[0]);
    if (cgroups)
        join_cgroups(stage1);   /* the init, forked after, inherits them */
    CHECK(write(sync[1], "0", 1));
    close(sync[1]);
    CHECK(waitpid(stage1, &status, 0));
    for (int i = 0; i < ngroups; i++)
        rmdir(groups[i]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
