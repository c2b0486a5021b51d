// nats_bench: the NATS JetStream side of `make compare` (Benchmarks/compare-nats.sh). One publisher with a window
// of asynchronous publishes (PublishAsync MaxPending), and a push consumer that reads a stream's backlog to its
// end, each timed from the first message to the last. Apus's figures come from mqbench with the same message
// size, window and count, so the two read as a ratio.
//
//   nats_bench setup   <url> <stream> <subject>                 file-storage stream, emptied
//   nats_bench produce <url> <subject> <count> <size> <window>  prints "produce: N msgs, S s, R msgs/s"
//   nats_bench consume <url> <stream> <subject> <count>         prints "consume: N msgs, S s, R msgs/s"
//
// Single-threaded apart from libnats's own threads; exits non-zero on any error.
#define _POSIX_C_SOURCE 200809L
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(natsStatus s, const char *what) {
    if (s != NATS_OK) {
        fprintf(stderr, "nats_bench: %s: %s (%s)\n", what, natsStatus_GetText(s), nats_GetLastError(NULL));
        exit(1);
    }
}

static atomic_long received;
static atomic_long errors;
static long wanted;
static _Atomic double first_at, last_at;

static void on_message(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc; (void)sub; (void)closure;
    long n = atomic_fetch_add(&received, 1) + 1;
    if (n == 1) first_at = now_s();
    if (n == wanted) last_at = now_s();
    natsMsg_Destroy(msg);
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
    (void)js; (void)pae; (void)closure;
    atomic_fetch_add(&errors, 1);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: nats_bench setup|produce|consume <url> ...\n");
        return 2;
    }
    const char *mode = argv[1], *url = argv[2];
    natsConnection *nc = NULL;
    natsOptions *opts = NULL;
    check(natsOptions_Create(&opts), "options");
    check(natsOptions_SetURL(opts, url), "url");
    // The consumer's pending bound must hold a burst of the backlog without dropping (slow consumer).
    check(natsOptions_SetMaxPendingMsgs(opts, 1 << 20), "max pending");
    check(natsConnection_Connect(&nc, opts), "connect");
    jsOptions jo;
    jsOptions_Init(&jo);
    jsCtx *js = NULL;

    if (strcmp(mode, "setup") == 0 && argc == 5) {
        check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = argv[3];
        const char *subjects[] = {argv[4]};
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        jsErrCode jerr = 0;
        (void)js_DeleteStream(js, argv[3], NULL, &jerr);
        check(js_AddStream(NULL, js, &sc, NULL, &jerr), "add stream");
    } else if (strcmp(mode, "produce") == 0 && argc == 7) {
        long count = atol(argv[4]);
        int size = atoi(argv[5]);
        jo.PublishAsync.MaxPending = atol(argv[6]);
        jo.PublishAsync.ErrHandler = on_pub_error;
        check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
        char *body = malloc((size_t)size);
        if (body == NULL) return 1;
        memset(body, 'n', (size_t)size);
        double start = now_s();
        for (long i = 0; i < count; i++) check(js_PublishAsync(js, argv[3], body, size, NULL), "publish");
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 60000;
        check(js_PublishAsyncComplete(js, &po), "publish complete");
        double secs = now_s() - start;
        printf("produce: %ld msgs, %.2f s, %.0f msgs/s, %ld errors\n", count, secs, (double)count / secs, atomic_load(&errors));
        free(body);
    } else if (strcmp(mode, "consume") == 0 && argc == 6) {
        wanted = atol(argv[5]);
        check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = argv[3];
        so.Config.DeliverPolicy = js_DeliverAll;
        // No per-message acknowledgement: RocketMQ's consumer commits offsets in the background, not per message.
        so.Config.AckPolicy = js_AckNone;
        so.Config.MaxAckPending = -1;
        // Flow control (with the heartbeats it requires) paces the server to what the client drains: without it
        // a 1 GB backlog overruns the subscription's 64 MB pending bound and messages are dropped.
        so.Config.FlowControl = true;
        so.Config.Heartbeat = (int64_t)5 * 1000 * 1000 * 1000;
        natsSubscription *sub = NULL;
        jsErrCode jerr = 0;
        check(js_Subscribe(&sub, js, argv[4], on_message, NULL, NULL, &so, &jerr), "subscribe");
        check(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits");
        // The timestamps come from the callback, so waiting by polling does not skew them.
        for (int waited = 0; atomic_load(&received) < wanted && waited < 120000; waited += 5) nats_Sleep(5);
        long got = atomic_load(&received);
        if (got < wanted) {
            fprintf(stderr, "nats_bench: consumed %ld of %ld\n", got, wanted);
            return 1;
        }
        double secs = last_at - first_at;
        printf("consume: %ld msgs, %.2f s, %.0f msgs/s\n", got, secs, (double)got / secs);
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    } else {
        fprintf(stderr, "nats_bench: bad arguments for %s\n", mode);
        return 2;
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    return 0;
}
