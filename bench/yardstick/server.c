/* server: the yardstick's reference server, and with -d the loopback ceiling
 * (bench/yardstick/README.md).
 *
 *   server [-p PORT] [-d]
 *
 * A minimal C server of the task, for a numbers server to be measured against:
 *   - listens on 127.0.0.1:PORT (default 4000) with a backlog of 4096, and gives each accepted
 *     connection a detached thread of its own. There is no limit on connections, as in a naive
 *     server: the task's limit of 5 clients is not enforced, so churn never waits for a slot.
 *   - each thread reads up to 1 MiB at a time and takes every whole line in what it has; a
 *     partial line is carried to the next read, and dropped at the end of the stream.
 *   - a line must be exactly 9 digits and '\n'. "terminate\n" ends the process (status 0) once
 *     the numbers before it are written; any other line closes the connection, and the lines
 *     before it count. Both are 10 bytes long, so input is judged in 10-byte records.
 *   - the seen numbers are one 10^9-bit set shared by all threads; the thread whose atomic OR
 *     sets a number's bit owns that number and logs it, so each number is logged once.
 *   - the new numbers of each read go to ./numbers.log in one write(2), padded ("%09u\n", the
 *     bytes as received). The log is truncated at start and opened O_APPEND: writes of different
 *     threads land whole, one after the other.
 * With -d it only reads into the 1 MiB buffer and drops the bytes: no set, no log, no checks.
 * Runs until killed or terminated; errors go to stderr; a failed log write exits with status 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BYTES (1 << 20)
#define LINE_BYTES 10                 /* "%09u\n" */
#define NUMBERS 1000000000u           /* values are in [0, 10^9) */
#define CHUNK_LINES 64                /* lines decoded (and their words prefetched) at a time */
#define BACKLOG 4096
#define THREAD_STACK_BYTES (256 * 1024)

static int discard;
static int log_fd = -1;
static _Atomic uint64_t *seen;        /* number v is bit v % 64 of word v / 64 */

/* Decodes up to n lines at p into values, stopping at the first that is not 9 digits and '\n';
 * returns how many were good. Each good value's word of the set is prefetched for writing, so
 * that the cache misses of a chunk overlap rather than follow one another: on a unique-heavy
 * load, over 125 MB of set, they are what costs. */
static size_t decode(const char *p, size_t n, uint32_t *values)
{
    for (size_t i = 0; i < n; i++, p += LINE_BYTES) {
        uint32_t v = 0;
        unsigned bad = p[9] != '\n';
        for (int k = 0; k < 9; k++) {
            unsigned digit = (unsigned)(unsigned char)p[k] - '0';   /* not a digit: over 9 */
            bad |= digit > 9;
            v = v * 10 + digit;
        }
        if (bad)
            return i;
        values[i] = v;
        __builtin_prefetch((const void *)&seen[v / 64], 1);
    }
    return n;
}

/* Marks n decoded values in the set and copies the lines of those it was first to see to out;
 * returns the bytes copied. A plain load first: a duplicate costs no locked instruction, and on
 * a duplicate-heavy load the words stay shared in every core's cache. Relaxed order suffices:
 * the OR's result is the only thing a thread learns from the set, and it is atomic. */
static size_t claim(const uint32_t *values, const char *lines, size_t n, char *out)
{
    size_t copied = 0;
    for (size_t i = 0; i < n; i++) {
        _Atomic uint64_t *word = &seen[values[i] / 64];
        uint64_t bit = 1ULL << (values[i] % 64);
        if (atomic_load_explicit(word, memory_order_relaxed) & bit)
            continue;
        if (atomic_fetch_or_explicit(word, bit, memory_order_relaxed) & bit)
            continue;
        memcpy(out + copied, lines + i * LINE_BYTES, LINE_BYTES);
        copied += LINE_BYTES;
    }
    return copied;
}

static void append(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(log_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            perror("server: numbers.log");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Thread: one connection, until its end, an invalid line or terminate. buf holds a carried
 * partial line (under 10 bytes) and then one read; out gets the read's new lines. */
static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(LINE_BYTES + READ_BYTES), *out = discard ? NULL : malloc(LINE_BYTES + READ_BYTES);
    uint32_t values[CHUNK_LINES];
    size_t carried = 0;
    if (buf == NULL || (!discard && out == NULL)) {
        fprintf(stderr, "server: no memory for a connection\n");
        goto end;
    }
    for (;;) {
        ssize_t r = read(fd, buf + carried, READ_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;   /* the end of the stream, or a reset: nothing more to read either way */
        if (discard)
            continue;
        size_t have = carried + (size_t)r, lines = have / LINE_BYTES, judged = 0, copied = 0;
        while (judged < lines) {
            size_t n = lines - judged < CHUNK_LINES ? lines - judged : CHUNK_LINES;
            size_t good = decode(buf + judged * LINE_BYTES, n, values);
            copied += claim(values, buf + judged * LINE_BYTES, good, out + copied);
            judged += good;
            if (good < n)
                break;
        }
        append(out, copied);
        if (judged < lines) {   /* the record at judged is not a number */
            if (memcmp(buf + judged * LINE_BYTES, "terminate\n", LINE_BYTES) == 0)
                exit(0);
            break;
        }
        carried = have - lines * LINE_BYTES;
        memmove(buf, buf + lines * LINE_BYTES, carried);
    }
end:
    close(fd);
    free(buf);
    free(out);
    return NULL;
}

int main(int argc, char **argv)
{
    int port = 4000;
    for (int o; (o = getopt(argc, argv, "p:d")) != -1;) {
        if (o == 'p' && atoi(optarg) > 0 && atoi(optarg) < 65536) {
            port = atoi(optarg);
        } else if (o == 'd') {
            discard = 1;
        } else {
            fprintf(stderr, "usage: server [-p port] [-d]\n");
            return 2;
        }
    }
    if (!discard) {
        seen = calloc(NUMBERS / 64 + 1, sizeof *seen);   /* untouched pages stay unallocated */
        log_fd = open("numbers.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        if (seen == NULL || log_fd < 0) {
            perror(seen == NULL ? "server: calloc" : "server: numbers.log");
            return 1;
        }
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, BACKLOG) != 0) {
        fprintf(stderr, "server: port %d: %s\n", port, strerror(errno));
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
                perror("server: accept");
                usleep(10000);   /* out of descriptors: let connections end before trying again */
            }
            continue;
        }
        pthread_t thread;
        int err = pthread_create(&thread, &attr, serve, (void *)(intptr_t)fd);
        if (err != 0) {
            fprintf(stderr, "server: no thread for a connection: %s\n", strerror(err));
            close(fd);
        }
    }
}
