/* mg_commit.h - group commit of accepted messages, on a worker thread.
 *
 * A message is acknowledged (250) only once msg/ID and env/ID are on disk. Done one
 * message at a time that is four fsyncs (file and directory, twice). Messages are
 * committed in batches instead: each message file fsynced and renamed into msg/, ONE
 * fsync of msg/ for all of them, then each envelope fsynced and renamed into env/,
 * ONE fsync of env/, then the replies. So a batch of N costs 2N + 2 fsyncs instead
 * of 4N, and the order that makes a crash harmless is the one of mg_queue.h for
 * every message of the batch: its envelope (the commit point) is created only after
 * the directory entry of its message file is durable, and the 250 is sent only after
 * the directory entry of its envelope is. A crash in between leaves message files
 * without envelopes (removed at start-up) and, for unanswered clients, envelopes
 * whose mail is then delivered although the client never saw the 250 (it will send
 * it again: a duplicate, the same as a connection lost after the 250).
 *
 * commit_sync = syncfs (the default) drops the per-file and per-directory fsyncs of a
 * batch: files written and renamed, then one syncfs(2) of the spool's file system per
 * step (message files; envelopes and removals), the same order, two device flushes per
 * batch whatever its size.
 *
 * The file work of a batch runs on a worker thread (net/worker.h), so the loop keeps
 * receiving and delivering while the disk works. At most MG_COMMIT_BATCHES (2)
 * batches are out at a time, on as many threads: the fsyncs of two batches overlap
 * (the disk queues them, as it does for Postfix's parallel cleanup processes), and
 * messages whose data ends while both are out wait and form the next batch (under load
 * the batches grow instead of the fsyncs). Batches are independent: each keeps the
 * order above for its own messages and removals, so they may finish in any order.
 * Ownership, the whole of the
 * thread safety: a request (message writer, formatted envelope, result) and a
 * removal list belong to the loop until the batch is submitted and again once its
 * completion runs on the loop; in between the worker alone touches them. The loop
 * keeps only the callback fields of an in-flight request, which the worker never
 * reads. The spool path is copied once and never written again. */
#ifndef MG_COMMIT_H
#define MG_COMMIT_H

#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"

struct mg_commit_req;
/* From the loop once the batch is durable (ok) or failed (the message is not queued:
 * answer 4xx). Never after mg_commit_cancel. */
typedef void (*mg_commit_done)(void *arg, int ok);

/* Queues a finished message file w (taken over on success: the caller drops its
 * pointer and must not free it) with its envelope env (formatted now; env stays the
 * caller's). Returns the request, or NULL (nothing taken: commit the slow way). */
struct mg_commit_req *mg_commit_add(struct mg_ctx *ctx, struct mg_msg_writer *w,
				    const struct mg_env *env, mg_commit_done done, void *arg);
/* The session is gone: done is not called. A request still waiting is dropped (its
 * file removed); one already on the worker completes, and if it was committed the
 * message is removed again (the client never saw the 250 and will send it again). */
void mg_commit_cancel(struct mg_ctx *ctx, struct mg_commit_req *r);
/* A delivery finished message id (every recipient sent or bounced): env/ID is
 * unlinked now; the next batch's fsync of env/ makes that durable (shared with the
 * envelopes of that batch), and only then is msg/ID unlinked, so a crash never leaves
 * an envelope without its message. Until that fsync a power loss can bring the
 * envelope back and the message is sent again: the RFC 1047 window between the next
 * hop's 250 and our record of it, longer by one batch. Returns 0/-1 (-1: the
 * caller removes it the slow way). */
int mg_commit_remove(struct mg_ctx *ctx, const char *id);
/* Daemon stop (after the sessions are gone): waits for the batch on the worker, makes
 * the last removals durable, stops the thread. */
void mg_commit_free(struct mg_ctx *ctx);
#endif
