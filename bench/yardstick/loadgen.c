/* loadgen: the yardstick's load generator for a numbers server (bench/yardstick/README.md).
 *
 *   loadgen [-p PORT] [-c CLIENTS] [-n NUMBERS] [-r RANGE] [-s SEED] [-l LOG] [-t TIMEOUT_S]
 *           [-i IDLE_S] [-w WARMUP] [-k EVERY] [-T]
 *
 * Sends CLIENTS x NUMBERS lines "%09u\n" to 127.0.0.1:PORT (default 5 x 20,000,000 to 4000), one
 * thread per client, and times how long the server takes to take them all in.
 *
 * Nothing is generated while the clock runs. Before it starts, each client's lines are written
 * into one buffer: NUMBERS values drawn uniformly from [0, RANGE) (default 10^9) by a generator
 * seeded from SEED, the phase and the client's index, so the same options always send the same
 * bytes. The generating threads also mark their values in a shared 10^9-bit set, which gives the
 * unique set and the two sizes its log can have: 10 bytes a number padded, digits + 1 stripped.
 *
 * The clock starts just before the clients connect. Each client then either
 *   - writes its whole buffer on one connection, half-closes it and reads until the server
 *     closes: the server has read everything (the default); or
 *   - with -k EVERY, opens a new connection every EVERY numbers and closes it as soon as that
 *     part is written, without waiting for the server (churn, as a naive client in a loop).
 * With -l LOG the clock stops when every client is done and LOG has exactly the size of the
 * unique set, in either format: every number is in the server's log, in the page cache (not
 * necessarily on disk). Without -l it stops when every client is done.
 *
 * -w WARMUP first sends WARMUP numbers per client from another stream, one connection each,
 * untimed, and waits for them as above, so that a JIT-compiled server is measured warm; the
 * expected log then holds both phases. -T sends "terminate\n" on a new connection at the end.
 *
 * The last line on stdout is key=value pairs:
 *   status=ok numbers=N unique=U seconds=S rate=R sent_s=W [connections=C conn_rate=X]
 * rate is numbers/s over seconds, unique counts the numbers new in the timed phase, sent_s is
 * when the last client was done. status is ok, incomplete (the log stayed short of its size for
 * IDLE_S seconds after the clients were done, default 10, or grew past it), timeout (TIMEOUT_S
 * after the start, default 300) or error (a client could not connect, write or read); the exit
 * status is 0 only for ok.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 10          /* "%09u\n" */
#define MAX_RANGE 1000000000L  /* the protocol's numbers are below 10^9 */
#define POLL_NS 1000000L       /* how often the log's size is looked at: 1 ms */
#define FORMAT_PROBE_BYTES 4096

enum stream { WARMUP_STREAM = 1, TIMED_STREAM = 2 };
enum status { OK, INCOMPLETE, TIMEOUT, ERROR };
static const char *const STATUS_NAMES[] = {"ok", "incomplete", "timeout", "error"};
enum log_format { UNKNOWN, PADDED, STRIPPED };

static struct {
    int port, clients, terminate;
    long numbers, range, warmup, every;
    uint64_t seed;
    const char *log;
    double timeout_s, idle_s;
} opt = {4000, 5, 0, 20000000, MAX_RANGE, 0, 0, 1, NULL, 300, 10};

/* One client of one phase: its lines, what generating them found, and what sending them did. */
struct client {
    int index;
    enum stream stream;
    long numbers, every;       /* every: numbers per connection, 0 for one connection */
    char *lines;               /* numbers * LINE_BYTES bytes */
    uint64_t unique, stripped_bytes;
};

static _Atomic uint64_t *expected;   /* the values sent so far, bit v % 64 of word v / 64 */
static atomic_int clients_done, clients_failed;
static atomic_long connections;      /* opened by the clients of the timed phase */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* The 64-bit finalizer of MurmurHash3: spreads SEED, stream and client index into a state. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb93e2a8fe53ULL;
    return x ^ (x >> 33);
}

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators"): the
 * state must not be 0. Its high 32 bits are the good ones; drawing from [0, range) takes them
 * times range, high half (Lemire's multiply-shift, bias below range / 2^32). */
static uint32_t draw(uint64_t *state, uint32_t range)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    uint32_t high = (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
    return (uint32_t)(((uint64_t)high * range) >> 32);
}

/* Thread: fills a client's buffer and marks each value in the expected set; the atomic OR
 * tells exactly one thread that a value is new, which counts it and its stripped size. */
static void *generate(void *arg)
{
    struct client *c = arg;
    uint64_t state = mix(opt.seed * 1000003u + (uint64_t)c->stream * 1009u + (uint64_t)c->index) | 1;
    char *p = c->lines;
    for (long i = 0; i < c->numbers; i++, p += LINE_BYTES) {
        uint32_t v = draw(&state, (uint32_t)opt.range), rest = v;
        for (int k = 8; k >= 0; k--, rest /= 10)
            p[k] = (char)('0' + rest % 10);
        p[9] = '\n';
        uint64_t bit = 1ULL << (v % 64);
        if (atomic_fetch_or_explicit(&expected[v / 64], bit, memory_order_relaxed) & bit)
            continue;
        int digits = 1;
        for (uint32_t x = v; x >= 10; x /= 10)
            digits++;
        c->unique++;
        c->stripped_bytes += (uint64_t)digits + 1;
    }
    return NULL;
}

static int connect_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Writes n bytes; returns 0, or the errno of the failure. MSG_NOSIGNAL: a server that closes
 * early gives EPIPE here, not a SIGPIPE that would end the whole run. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Thread: sends one client's lines, one connection or one every c->every numbers. A failure is
 * reported on stderr and ends this client; the phase then ends with status error. */
static void *send_lines(void *arg)
{
    struct client *c = arg;
    size_t total = (size_t)c->numbers * LINE_BYTES;
    size_t step = c->every > 0 ? (size_t)c->every * LINE_BYTES : total;
    const char *what = "";
    int err = 0;
    for (size_t start = 0; start < total && !err; start += step) {
        size_t n = total - start < step ? total - start : step;
        int fd = connect_loopback();
        what = "connect";
        if (fd < 0) {
            err = errno;
            break;
        }
        atomic_fetch_add(&connections, 1);
        what = "write";
        err = write_all(fd, c->lines + start, n);
        if (!err && c->every == 0) {
            /* half-close, then the server's close says it has read everything */
            char sink[512];
            ssize_t r;
            what = "read";
            shutdown(fd, SHUT_WR);
            while ((r = read(fd, sink, sizeof sink)) > 0 || (r < 0 && errno == EINTR)) {}
            if (r < 0)
                err = errno;
        }
        close(fd);
    }
    if (err) {
        fprintf(stderr, "loadgen: client %d: %s: %s\n", c->index, what, strerror(err));
        atomic_fetch_add(&clients_failed, 1);
    }
    atomic_fetch_add(&clients_done, 1);
    return NULL;
}

/* Which format the log is in, from its first FORMAT_PROBE_BYTES: a line not 10 bytes long can
 * only be stripped (over [0, 10^9) about one in ten is shorter), 409 lines of 10 are padded.
 * Knowing it keeps a padded log that grows through the stripped size from ending the clock. */
static enum log_format probe_format(void)
{
    char head[FORMAT_PROBE_BYTES];
    int fd = open(opt.log, O_RDONLY);
    if (fd < 0)
        return UNKNOWN;
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    if (n < (ssize_t)sizeof head)
        return UNKNOWN;
    const char *line = head, *end = head + n, *nl;
    while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
        if (nl - line + 1 != LINE_BYTES)
            return STRIPPED;
        line = nl + 1;
    }
    return PADDED;
}

/* Waits for the clients started at t0 and, with -l, for the log to hold `unique` numbers:
 * `padded` or `stripped` bytes. Sets *sent (when the last client was done) and *end. */
static enum status await_phase(double t0, uint64_t padded, uint64_t stripped, double *sent, double *end)
{
    enum log_format format = UNKNOWN;
    off_t last_size = -1;
    double last_growth = t0;
    struct timespec pause = {0, POLL_NS};
    *sent = 0;
    for (;;) {
        double t = *end = now();
        int done = atomic_load(&clients_done) == opt.clients;
        if (done && *sent == 0)
            *sent = t;
        if (done && atomic_load(&clients_failed) > 0)
            return ERROR;
        if (opt.log == NULL && done)
            return OK;
        if (opt.log != NULL) {
            struct stat st;
            off_t size = stat(opt.log, &st) == 0 ? st.st_size : 0;
            if (size != last_size) {
                last_size = size;
                last_growth = t;
            }
            if (format == UNKNOWN && size >= FORMAT_PROBE_BYTES)
                format = probe_format();
            int whole = (format != STRIPPED && (uint64_t)size == padded)
                        || (format != PADDED && (uint64_t)size == stripped);
            if (done && whole)
                return OK;
            if ((uint64_t)size > padded) {
                fprintf(stderr, "loadgen: the log has %lld bytes, more than the %llu of the unique set\n",
                        (long long)size, (unsigned long long)padded);
                return INCOMPLETE;
            }
            if (done && t - (last_growth > *sent ? last_growth : *sent) > opt.idle_s) {
                fprintf(stderr, "loadgen: the log stopped at %lld bytes; the unique set is %llu padded "
                        "or %llu stripped\n", (long long)size, (unsigned long long)padded,
                        (unsigned long long)stripped);
                return INCOMPLETE;
            }
        }
        if (t - t0 > opt.timeout_s) {
            fprintf(stderr, "loadgen: timeout after %.0f s, %d of %d clients done, log %lld bytes\n",
                    opt.timeout_s, atomic_load(&clients_done), opt.clients, (long long)last_size);
            return TIMEOUT;
        }
        nanosleep(&pause, NULL);
    }
}

/* Starts one thread per client on fn and, if join, waits for them all. */
static void run_clients(struct client *cl, void *(*fn)(void *), int join)
{
    pthread_t *threads = calloc((size_t)opt.clients, sizeof *threads);
    if (threads == NULL)
        die("calloc");
    atomic_store(&clients_done, 0);
    for (int i = 0; i < opt.clients; i++)
        if (pthread_create(&threads[i], NULL, fn, &cl[i]) != 0)
            die("pthread_create");
    for (int i = 0; i < opt.clients; i++) {
        if (join)
            pthread_join(threads[i], NULL);
        else
            pthread_detach(threads[i]);
    }
    free(threads);
}

/* Generates one phase's clients; adds its unique numbers and stripped bytes to the totals. */
static struct client *prepare(enum stream stream, long numbers, long every, uint64_t *unique, uint64_t *stripped)
{
    struct client *cl = calloc((size_t)opt.clients, sizeof *cl);
    if (cl == NULL)
        die("calloc");
    for (int i = 0; i < opt.clients; i++) {
        cl[i] = (struct client){.index = i, .stream = stream, .numbers = numbers, .every = every};
        if ((cl[i].lines = malloc((size_t)numbers * LINE_BYTES)) == NULL)
            die("malloc");
    }
    run_clients(cl, generate, 1);
    for (int i = 0; i < opt.clients; i++) {
        *unique += cl[i].unique;
        *stripped += cl[i].stripped_bytes;
    }
    return cl;
}

static long parse(int option, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "loadgen: -%c must be a whole number from %ld to %ld, got '%s'\n", option, min, max, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    for (int o; (o = getopt(argc, argv, "p:c:n:r:s:l:t:i:w:k:T")) != -1;) {
        switch (o) {
        case 'p': opt.port = (int)parse(o, optarg, 1, 65535); break;
        case 'c': opt.clients = (int)parse(o, optarg, 1, 1000); break;
        case 'n': opt.numbers = parse(o, optarg, 1, 1L << 34); break;
        case 'r': opt.range = parse(o, optarg, 1, MAX_RANGE); break;
        case 's': opt.seed = (uint64_t)parse(o, optarg, 0, 1L << 62); break;
        case 'l': opt.log = optarg; break;
        case 't': opt.timeout_s = (double)parse(o, optarg, 1, 86400); break;
        case 'i': opt.idle_s = (double)parse(o, optarg, 1, 86400); break;
        case 'w': opt.warmup = parse(o, optarg, 0, 1L << 34); break;
        case 'k': opt.every = parse(o, optarg, 0, 1L << 34); break;
        case 'T': opt.terminate = 1; break;
        default:
            fprintf(stderr, "usage: loadgen [-p port] [-c clients] [-n numbers] [-r range] [-s seed] [-l log]"
                    " [-t timeout_s] [-i idle_s] [-w warmup] [-k every] [-T]\n");
            return 2;
        }
    }
    if ((expected = calloc((size_t)(opt.range + 63) / 64, sizeof *expected)) == NULL)
        die("calloc");

    uint64_t unique = 0, stripped = 0;
    struct client *warm = NULL;
    if (opt.warmup > 0)
        warm = prepare(WARMUP_STREAM, opt.warmup, 0, &unique, &stripped);
    uint64_t warm_unique = unique, warm_stripped = stripped;
    struct client *timed = prepare(TIMED_STREAM, opt.numbers, opt.every, &unique, &stripped);
    uint64_t numbers = (uint64_t)opt.clients * (uint64_t)opt.numbers;
    fprintf(stderr, "loadgen: %llu numbers, %llu new; the log will hold %llu numbers: %llu bytes padded, "
            "%llu stripped\n", (unsigned long long)numbers, (unsigned long long)(unique - warm_unique),
            (unsigned long long)unique, (unsigned long long)unique * LINE_BYTES, (unsigned long long)stripped);

    double start, sent, end;
    enum status status = OK;
    if (warm != NULL) {
        run_clients(warm, send_lines, 0);
        status = await_phase(start = now(), warm_unique * LINE_BYTES, warm_stripped, &sent, &end);
        fprintf(stderr, "loadgen: warm-up of %ld numbers per client: %s in %.3f s\n", opt.warmup,
                STATUS_NAMES[status], end - start);
    }
    if (status == OK) {
        atomic_store(&connections, 0);
        start = now();
        run_clients(timed, send_lines, 0);
        status = await_phase(start, unique * LINE_BYTES, stripped, &sent, &end);
    }
    if (opt.terminate) {
        int fd = connect_loopback(), err = fd < 0 ? errno : write_all(fd, "terminate\n", 10);
        if (err)
            fprintf(stderr, "loadgen: terminate: %s\n", strerror(err));
        if (fd >= 0)
            close(fd);
    }
    if (warm != NULL && status != OK) {
        printf("status=%s warmup=%ld\n", STATUS_NAMES[status], opt.warmup);
        return 1;
    }
    double seconds = end - start;
    long opened = atomic_load(&connections);
    printf("status=%s numbers=%llu unique=%llu seconds=%.3f rate=%.0f sent_s=%.3f", STATUS_NAMES[status],
           (unsigned long long)numbers, (unsigned long long)(unique - warm_unique), seconds,
           (double)numbers / seconds, sent > 0 ? sent - start : seconds);
    if (opt.every > 0)
        printf(" connections=%ld conn_rate=%.0f", opened, (double)opened / seconds);
    printf("\n");
    return status == OK ? 0 : 1;
}
