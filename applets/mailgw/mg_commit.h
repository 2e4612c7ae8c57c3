/* mg_commit.h - group commit of accepted messages.
 *
 * A message is acknowledged (250) only once msg/ID and env/ID are on disk. Done one
 * message at a time that is four fsyncs on the one event loop (file and directory,
 * twice). Every message whose data ended in the same loop pass is committed together
 * instead, in the next pass: each message file fsynced and renamed into msg/, ONE
 * fsync of msg/ for all of them, then each envelope fsynced and renamed into env/,
 * ONE fsync of env/, then the replies. So a batch of N costs 2N + 2 fsyncs instead
 * of 4N, and the order that makes a crash harmless is the one of mg_queue.h for
 * every message of the batch: its envelope (the commit point) is created only after
 * the directory entry of its message file is durable, and the 250 is sent only after
 * the directory entry of its envelope is. A crash in between leaves message files
 * without envelopes (removed at start-up) and, for unanswered clients, envelopes
 * whose mail is then delivered although the client never saw the 250 (it will send
 * it again: a duplicate, the same as a connection lost after the 250). */
#ifndef MG_COMMIT_H
#define MG_COMMIT_H

#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"

struct mg_commit_req {
	struct mg_commit_req *next;
	struct mg_msg_writer *w;     /* finished message file, not yet committed */
	const struct mg_env *env;
	void (*done)(struct mg_commit_req *r, int ok);   /* from the loop; r may be freed */
};

/* Queues r (owned by the caller until done). Returns 0, or -1 (nothing queued). */
int mg_commit_add(struct mg_ctx *ctx, struct mg_commit_req *r);
/* Takes r out of the batch if it is still waiting (session gone). */
void mg_commit_cancel(struct mg_ctx *ctx, struct mg_commit_req *r);
/* A delivery finished message id (every recipient sent or bounced): env/ID is
 * unlinked now; the next batch's fsync of env/ makes that durable (shared with the
 * envelopes of that batch), and only then is msg/ID unlinked, so a crash never leaves
 * an envelope without its message. Until that fsync a power loss can bring the
 * envelope back and the message is sent again: the RFC 1047 window between the next
 * hop's 250 and our record of it, longer by one loop pass. Returns 0/-1 (-1: the
 * caller removes it the slow way). */
int mg_commit_remove(struct mg_ctx *ctx, const char *id);
/* Daemon stop: the last removals are made durable. */
void mg_commit_free(struct mg_ctx *ctx);
#endif
