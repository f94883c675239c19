/* See helper.h. Kept small on purpose: everything that Python can do safely
 * stays in Python. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#ifndef PYOCI_VERSION
#error "PYOCI_VERSION must be defined by the build"
#endif
#ifndef PYOCI_COMMIT
#define PYOCI_COMMIT "unknown"
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static char error_message[512];

static int fail(int err, const char *fmt, ...)
{
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < sizeof(error_message))
        snprintf(error_message + len, sizeof(error_message) - len, ": %s",
                 strerror(err));
    return -err;
}

static const char *show(const char *s)
{
    return s ? s : "";
}

const char *pyoci_native_version(void) { return PYOCI_VERSION; }
const char *pyoci_native_commit(void) { return PYOCI_COMMIT; }
const char *pyoci_error(void) { return error_message; }

int pyoci_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data)
{
    if (mount(source, target, fstype, flags, data) < 0)
        return fail(errno, "mount %s on %s (type %s, flags 0x%lx, data %s)",
                    show(source), show(target), show(fstype), flags, show(data));
    return 0;
}

int pyoci_umount2(const char *target, int flags)
{
    if (umount2(target, flags) < 0)
        return fail(errno, "umount %s", target);
    return 0;
}

int pyoci_pivot_root(const char *new_root, const char *put_old)
{
    if (syscall(SYS_pivot_root, new_root, put_old) < 0)
        return fail(errno, "pivot_root %s %s", new_root, put_old);
    return 0;
}

int pyoci_unshare(int flags)
{
    if (unshare(flags) < 0)
        return fail(errno, "unshare 0x%x", flags);
    return 0;
}

int pyoci_setns(int fd, int nstype)
{
    if (setns(fd, nstype) < 0)
        return fail(errno, "setns fd %d type 0x%x", fd, nstype);
    return 0;
}

int pyoci_sethostname(const char *name)
{
    if (sethostname(name, strlen(name)) < 0)
        return fail(errno, "sethostname %s", name);
    return 0;
}

int pyoci_setdomainname(const char *name)
{
    if (setdomainname(name, strlen(name)) < 0)
        return fail(errno, "setdomainname %s", name);
    return 0;
}

long pyoci_prctl(int option, unsigned long arg2, unsigned long arg3,
                 unsigned long arg4, unsigned long arg5)
{
    long rc = prctl(option, arg2, arg3, arg4, arg5);
    if (rc < 0)
        return fail(errno, "prctl %d %lu", option, arg2);
    return rc;
}

int pyoci_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {
        {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
        {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32),
         (uint32_t)(inheritable >> 32)},
    };
    if (syscall(SYS_capset, &header, data) < 0)
        return fail(errno, "capset");
    return 0;
}

int pyoci_capget(int pid, uint64_t *effective, uint64_t *permitted,
                 uint64_t *inheritable)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, pid};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0)
        return fail(errno, "capget %d", pid);
    *effective = data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}

int pyoci_personality(unsigned long persona)
{
    if (personality(persona) < 0)
        return fail(errno, "personality 0x%lx", persona);
    return 0;
}

int pyoci_ioprio_set(int which, int who, int ioprio)
{
    if (syscall(SYS_ioprio_set, which, who, ioprio) < 0)
        return fail(errno, "ioprio_set %d", ioprio);
    return 0;
}

/* struct sched_attr is not in glibc's headers before 2.41. */
struct pyoci_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int pyoci_sched_setattr(int pid, uint32_t policy, uint64_t flags, int32_t nice,
                        uint32_t priority, uint64_t runtime, uint64_t deadline,
                        uint64_t period)
{
    struct pyoci_sched_attr attr = {sizeof(attr), policy, flags, nice,
                                    priority, runtime, deadline, period};
    if (syscall(SYS_sched_setattr, pid, &attr, 0) < 0)
        return fail(errno, "sched_setattr policy %u", policy);
    return 0;
}

int pyoci_set_mempolicy(int mode, const unsigned long *nodemask,
                        unsigned long maxnode)
{
    /* The kernel reads maxnode - 1 bits (a historical off-by-one). */
    if (syscall(SYS_set_mempolicy, mode, nodemask, maxnode ? maxnode + 1 : 0) < 0)
        return fail(errno, "set_mempolicy mode 0x%x", mode);
    return 0;
}

struct pyoci_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int pyoci_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                  uint64_t resolve)
{
    struct pyoci_open_how how = {flags, mode, resolve};
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    if (fd < 0)
        return fail(errno, "open %s", path);
    return (int)fd;
}

int pyoci_open_tree(int dirfd, const char *path, unsigned int flags)
{
    long fd = syscall(SYS_open_tree, dirfd, path, flags);
    if (fd < 0)
        return fail(errno, "open_tree %s", path);
    return (int)fd;
}

int pyoci_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                     const char *to_path, unsigned int flags)
{
    if (syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path,
                flags) < 0)
        return fail(errno, "move_mount %s to %s", from_path, to_path);
    return 0;
}

struct pyoci_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

int pyoci_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr,
                        uint64_t propagation, uint64_t userns_fd)
{
    struct pyoci_mount_attr attr = {attr_set, attr_clr, propagation, userns_fd};
    if (syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr)) < 0)
        return fail(errno, "mount_setattr %s", path);
    return 0;
}

/* After the filter is in, only these syscalls run before execve:
 * capset, sendmsg and close (see struct pyoci_seccomp). */
static int load_seccomp(const struct pyoci_seccomp *seccomp)
{
    struct sock_fprog prog = {seccomp->bpf_len,
                              (struct sock_filter *)seccomp->bpf};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {(void *)seccomp->message, seccomp->message_len};
    struct msghdr msg;
    struct cmsghdr *cmsg;
    int listener, rc;

    listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, seccomp->flags,
                       &prog);
    if (listener < 0)
        return fail(errno, "load seccomp filter (%u instructions)",
                    seccomp->bpf_len);
    if (seccomp->restore_caps) {
        rc = pyoci_capset(seccomp->effective, seccomp->permitted,
                          seccomp->inheritable);
        if (rc < 0)
            return rc;
    }
    if (seccomp->agent_fd < 0)
        return 0;

    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buffer;
    msg.msg_controllen = sizeof(control.buffer);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &listener, sizeof(int));
    while (sendmsg(seccomp->agent_fd, &msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            return fail(errno, "send the seccomp listener fd to the agent "
                        "at linux.seccomp.listenerPath");
    }
    close(listener);
    close(seccomp->agent_fd);
    return 0;
}

int pyoci_exec(const char *path, char *const argv[], char *const envp[],
               int close_from_fd, const struct pyoci_seccomp *seccomp)
{
    sigset_t all;
    int sig;

    /* Every fd the container was not promised must not survive execve
     * (CVE-2024-21626): mark them close-on-exec, so that a failing execve
     * can still report through them. */
    if (syscall(SYS_close_range, close_from_fd, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return fail(errno, "close_range from %d", close_from_fd);

    /* CPython ignores SIGPIPE and SIGXFSZ and installs handlers; ignored
     * dispositions and the mask survive execve. */
    for (sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigemptyset(&all);
    if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
        return fail(errno, "sigprocmask");

    if (seccomp != NULL) {
        int rc = load_seccomp(seccomp);
        if (rc < 0)
            return rc;
    }

    execve(path, argv, envp);
    return fail(errno, "exec %s", path);
}

int pyoci_seccomp_flags_supported(unsigned int flags)
{
    /* The kernel checks the flags before it reads the program: EFAULT for
     * a NULL program means the flags passed (libseccomp probes the same). */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) == 0)
        return fail(EPROTO, "seccomp probe of flags %#x loaded nothing", flags);
    if (errno == EFAULT)
        return 1;
    if (errno == EINVAL)
        return 0;
    return fail(errno, "seccomp probe of flags %#x", flags);
}

int pyoci_seccomp_action_available(uint32_t action)
{
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
        return 1;
    if (errno == EOPNOTSUPP)
        return 0;
    return fail(errno, "seccomp probe of action %#x", action);
}

long pyoci_join_session_keyring(const char *name, uint32_t add_perm)
{
    char description[256];
    unsigned int perm;
    long serial;

    serial = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
    if (serial < 0)
        return fail(errno, "join session keyring %s", name);
    /* "type;uid;gid;perm;description", perm in hex */
    if (syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, description,
                sizeof(description)) < 0)
        return fail(errno, "describe session keyring %s", name);
    description[sizeof(description) - 1] = '\0';
    if (sscanf(description, "%*[^;];%*[^;];%*[^;];%x;", &perm) != 1)
        return fail(EINVAL, "parse keyring description %s", description);
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, serial, perm | add_perm) < 0)
        return fail(errno, "set permissions of session keyring %s", name);
    return serial;
}

/* eBPF for the cgroup v2 device controller. The whole union bpf_attr is
 * zeroed and passed: some kernels (6.17+) write BPF_PROG_QUERY fields past
 * the ones a caller asked for. */
#include <linux/bpf.h>

static long bpf_call(int cmd, union bpf_attr *attr)
{
    long rc;
    int tries = 0;

    do {
        rc = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
        /* The verifier may be interrupted by a signal (EAGAIN). */
    } while (rc < 0 && errno == EAGAIN && cmd == BPF_PROG_LOAD && ++tries < 30);
    return rc;
}

int pyoci_bpf_cgroup_device_load(const void *insns, uint32_t insn_cnt,
                                 const char *license, char *log,
                                 uint32_t log_size)
{
    union bpf_attr attr;
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insn_cnt = insn_cnt;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.license = (uint64_t)(uintptr_t)license;
    if (log != NULL && log_size > 0) {
        log[0] = '\0';
        attr.log_level = 1;
        attr.log_size = log_size;
        attr.log_buf = (uint64_t)(uintptr_t)log;
    }
    fd = bpf_call(BPF_PROG_LOAD, &attr);
    if (fd < 0)
        return fail(errno, "bpf BPF_PROG_LOAD (cgroup device, %u insns)",
                    insn_cnt);
    return (int)fd;
}

int pyoci_bpf_cgroup_device_attach(int cgroup_fd, int prog_fd, int replace_fd)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (replace_fd >= 0) {
        attr.attach_flags |= BPF_F_REPLACE;
        attr.replace_bpf_fd = replace_fd;
    }
    if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
        return fail(errno, "bpf BPF_PROG_ATTACH (cgroup device%s)",
                    replace_fd >= 0 ? ", replace" : "");
    return 0;
}

int pyoci_bpf_cgroup_device_detach(int cgroup_fd, int prog_fd)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf_call(BPF_PROG_DETACH, &attr) < 0)
        return fail(errno, "bpf BPF_PROG_DETACH (cgroup device)");
    return 0;
}

int pyoci_bpf_cgroup_device_query(int cgroup_fd, uint32_t *prog_ids,
                                  uint32_t *prog_cnt)
{
    union bpf_attr attr;
    long rc;

    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)prog_ids;
    attr.query.prog_cnt = *prog_cnt;
    rc = bpf_call(BPF_PROG_QUERY, &attr);
    *prog_cnt = attr.query.prog_cnt;
    if (rc < 0)
        return fail(errno, "bpf BPF_PROG_QUERY (cgroup device)");
    return 0;
}

int pyoci_bpf_prog_get_fd_by_id(uint32_t id)
{
    union bpf_attr attr;
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0)
        return fail(errno, "bpf BPF_PROG_GET_FD_BY_ID %u", id);
    return (int)fd;
}
