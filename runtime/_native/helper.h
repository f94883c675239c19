/* The pyoci C helper: the syscalls the Python standard library lacks, and the
 * final stretch before execve that must run with no interpreter activity.
 *
 * Every function returns 0 (or a non-negative result) on success and -errno
 * on failure; pyoci_error() then describes the failed step. This file is both
 * the C header and the cffi declarations, so it holds declarations only. */

const char *pyoci_native_version(void);
const char *pyoci_native_commit(void);
const char *pyoci_error(void);

int pyoci_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data);
int pyoci_umount2(const char *target, int flags);
int pyoci_pivot_root(const char *new_root, const char *put_old);
int pyoci_unshare(int flags);
int pyoci_setns(int fd, int nstype);
int pyoci_sethostname(const char *name);
int pyoci_setdomainname(const char *name);
long pyoci_prctl(int option, unsigned long arg2, unsigned long arg3,
                 unsigned long arg4, unsigned long arg5);
int pyoci_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int pyoci_capget(int pid, uint64_t *effective, uint64_t *permitted,
                 uint64_t *inheritable);
int pyoci_personality(unsigned long persona);
int pyoci_ioprio_set(int which, int who, int ioprio);
int pyoci_sched_setattr(int pid, uint32_t policy, uint64_t flags, int32_t nice,
                        uint32_t priority, uint64_t runtime, uint64_t deadline,
                        uint64_t period);
/* set_mempolicy(2): mode | flags, a node bitmask of maxnode bits. */
int pyoci_set_mempolicy(int mode, const unsigned long *nodemask,
                        unsigned long maxnode);

/* keyctl: join (creating it when needed) the session keyring `name`, then
 * add `add_perm` to its permission mask (as runc, so that later processes
 * of the same container can join it). Returns the keyring's serial. */
long pyoci_join_session_keyring(const char *name, uint32_t add_perm);

/* The new mount API, and openat2 for resolving paths inside a root. */
int pyoci_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                  uint64_t resolve);
int pyoci_open_tree(int dirfd, const char *path, unsigned int flags);
int pyoci_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                     const char *to_path, unsigned int flags);
int pyoci_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr,
                        uint64_t propagation, uint64_t userns_fd);

/* A seccomp filter to load right before execve. Without no_new_privs the
 * load needs CAP_SYS_ADMIN, which the caller then keeps in its effective
 * and permitted sets until the filter is in: restore_caps says to set the
 * process's real capabilities afterwards. With agent_fd >= 0 the filter
 * was compiled with SCMP_ACT_NOTIFY: the listener fd seccomp(2) returns
 * goes there with `message` (SCM_RIGHTS, one sendmsg), then both close. */
struct pyoci_seccomp {
    const void *bpf;            /* struct sock_filter[bpf_len] */
    unsigned short bpf_len;
    unsigned int flags;         /* SECCOMP_FILTER_FLAG_* */
    int restore_caps;
    uint64_t effective, permitted, inheritable;
    int agent_fd;
    const char *message;
    size_t message_len;
};

/* The last step of every container process: mark every fd from
 * close_from_fd on close-on-exec, reset every signal disposition and the
 * signal mask, load the seccomp filter when one is given (NULL: none),
 * then execve. Returns only on failure. */
int pyoci_exec(const char *path, char *const argv[], char *const envp[],
               int close_from_fd, const struct pyoci_seccomp *seccomp);

/* Probes for `features`: 1 when the kernel takes these seccomp(2) filter
 * flags (or this SECCOMP_RET_* action), 0 when not, -errno on a failure
 * that says neither. */
int pyoci_seccomp_flags_supported(unsigned int flags);
int pyoci_seccomp_action_available(uint32_t action);

/* eBPF for the cgroup v2 device controller (BPF_PROG_TYPE_CGROUP_DEVICE).
 * insns is an array of struct bpf_insn (8 bytes each); on a failed load the
 * verifier log, when log_size > 0, is left NUL-terminated in log. The load
 * returns the program fd (close-on-exec). attach uses BPF_F_ALLOW_MULTI, plus
 * BPF_F_REPLACE of replace_fd when replace_fd >= 0. query fills at most
 * *prog_cnt program ids and sets *prog_cnt to the number attached. */
int pyoci_bpf_cgroup_device_load(const void *insns, uint32_t insn_cnt,
                                 const char *license, char *log,
                                 uint32_t log_size);
int pyoci_bpf_cgroup_device_attach(int cgroup_fd, int prog_fd, int replace_fd);
int pyoci_bpf_cgroup_device_detach(int cgroup_fd, int prog_fd);
int pyoci_bpf_cgroup_device_query(int cgroup_fd, uint32_t *prog_ids,
                                  uint32_t *prog_cnt);
int pyoci_bpf_prog_get_fd_by_id(uint32_t id);
