/* A syscall prober for the seccomp tests, built static at test time and
 * bind-mounted into busybox containers:
 *
 *     probe [--catch-sigsys] NUMBER [ARG...]
 *
 * makes syscall NUMBER with up to six integer arguments and prints
 * "ok RESULT" or "errno N". With --catch-sigsys a SIGSYS (SCMP_ACT_TRAP)
 * prints "sigsys NUMBER" (the trapped syscall) and exits 0; without it
 * SIGSYS kills the probe. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_sigsys(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    printf("sigsys %d\n", info->si_syscall);
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv)
{
    long args[6] = {0};
    long number, rc;
    int first = 1, i;

    if (argc > 1 && strcmp(argv[1], "--catch-sigsys") == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_sigaction = on_sigsys;
        action.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &action, NULL);
        first = 2;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: probe [--catch-sigsys] NUMBER [ARG...]\n");
        return 2;
    }
    number = strtol(argv[first], NULL, 0);
    for (i = 0; i < 6 && first + 1 + i < argc; i++)
        args[i] = (long)strtoul(argv[first + 1 + i], NULL, 0);
    rc = syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
    if (rc < 0)
        printf("errno %d\n", errno);
    else
        printf("ok %ld\n", rc);
    return 0;
}
