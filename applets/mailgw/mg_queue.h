/* mg_queue.h - the durable queue. A message is two files in the spool:
 *   msg/ID   the message as received (CRLF lines, unstuffed, Received: first)
 *   env/ID   its envelope: sender, recipients with their delivery state (text, below)
 * Both are written to a temporary name, fsynced, renamed and the directory fsynced
 * (or, commit_sync = syncfs, renamed and made durable by one syncfs per step).
 * msg/ID comes first; env/ID is the commit point: a message exists once its envelope
 * does, and a msg/ without env/ is a leftover of a crash before the 250 (removed at
 * start-up). Envelope format, one field per line, all printable ASCII:
 *   mailgw-queue 1
 *   id ID / created UNIX / from <MAILBOX> / size N / body 7bit|8bitmime|unset
 *   client IP / helo NAME / tls TEXT / hold 0|1 / bounce 0|1
 *   rcpt pending|sent|failed|bounced ATTEMPTS NEXT-TRY <MAILBOX> LAST-ERROR
 *   end */
#ifndef MG_QUEUE_H
#define MG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "applets/mailgw/mg_smtp.h"

#define MG_ID_MAX 32
#define MG_ENV_MAX (1024 * 1024)   /* envelope files larger than this are corrupt */
#define MG_RCPT_HARD_MAX 10000

enum mg_rcpt_state {
	MG_RCPT_PENDING = 0,  /* still to deliver */
	MG_RCPT_SENT,         /* accepted by the next hop */
	MG_RCPT_FAILED,       /* permanent failure or expired; a bounce is owed */
	MG_RCPT_BOUNCED,      /* failure reported to the sender (or nobody to report to) */
};

/* A release by the operator or ETRN, kept in memory only (never in the envelope
 * file): set on every pending recipient it covers when it is asked for, cleared when
 * a delivery takes the recipient. A restart forgets it. */
enum mg_release {
	MG_REL_NONE = 0,
	MG_REL_HURRY,         /* `flush`: due now despite the back-off (ETRN holds stay) */
	MG_REL_ETRN,          /* ETRN / `flush DOMAIN`: released from the hold, due now */
};

struct mg_rcpt {
	char addr[MG_ADDR_MAX + 1];
	enum mg_rcpt_state state;
	long attempts;
	long long next_try;
	char error[256];
	enum mg_release release;   /* in memory only (mg_runner.c) */
};

struct mg_env {
	char id[MG_ID_MAX + 1];
	long long created;
	char from[MG_ADDR_MAX + 1];   /* "" = null sender (a bounce is never bounced) */
	long long size;
	enum mg_body body;
	char client[64];
	char helo[256];
	char tls[160];                /* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "none" */
	int hold;                     /* ETRN domain: wait for ETRN */
	int bounce;                   /* this message is a DSN we generated */
	struct mg_rcpt *rcpt;
	size_t nrcpt;
};

void mg_env_init(struct mg_env *e);
void mg_env_free(struct mg_env *e);
int mg_env_add_rcpt(struct mg_env *e, const char *addr);
/* Parses an envelope file's bytes (untrusted: fuzzed). On success e owns new memory. */
int mg_env_parse(const uint8_t *data, size_t len, struct mg_env *e);
int mg_env_format(const struct mg_env *e, struct buf_writer *w);
const char *mg_rcpt_state_name(enum mg_rcpt_state s);
/* 1 when every recipient is SENT or BOUNCED: the message can go. */
int mg_env_done(const struct mg_env *e);
/* Queue ids are [0-9A-Za-z]{8,32}; anything else never touches a path. */
int mg_id_valid(const char *id);

/* ---- spool files ---- */
/* Creates spool/{msg,env,tmp} and removes crash leftovers. */
int mg_spool_init(const char *spool);
/* A new unique id (time, pid, counter, random): written to id (cap >= MG_ID_MAX+1). */
int mg_spool_new_id(char *id, size_t cap);

/* Streaming writer for msg/ID: the message is never held whole in memory. */
struct mg_msg_writer {
	int fd;
	char tmp[512];
	char path[512];
	char dir[512];
	long long bytes;
	int err;
	size_t blen;
	uint8_t buf[16384];
};
int mg_msg_writer_open(struct mg_msg_writer *w, const char *spool, const char *id);
int mg_msg_writer_write(struct mg_msg_writer *w, const void *p, size_t len);
/* Flush, fsync, rename to msg/ID, fsync msg/. After 0 the message file is durable. */
int mg_msg_writer_commit(struct mg_msg_writer *w);
void mg_msg_writer_abort(struct mg_msg_writer *w);
/* Group commit (mg_commit.c): the same steps without the directory fsync, which the
 * caller does once for a whole batch with mg_spool_sync_dir. The envelope comes
 * already formatted (mg_env_format): the commit's worker thread writes bytes the loop
 * prepared. These three touch only files and their arguments (thread-safe). */
int mg_msg_writer_commit_nodirsync(struct mg_msg_writer *w);
int mg_env_write_nodirsync(const char *spool, const char *id, const void *data, size_t len);
int mg_spool_sync_dir(const char *spool, const char *sub);
/* commit_sync = syncfs: the same steps with no fsync at all; the caller then makes the
 * whole batch durable with one syncfs(2) of the spool's file system per step (two per
 * batch instead of two per message plus two). */
int mg_msg_writer_commit_nosync(struct mg_msg_writer *w);
int mg_env_write_nosync(const char *spool, const char *id, const void *data, size_t len);
int mg_spool_syncfs(const char *spool);

/* env/ID via fs_write_atomic (tmp + fsync + rename + dir fsync). */
int mg_env_save(const char *spool, const struct mg_env *e);
int mg_env_load(const char *spool, const char *id, struct mg_env *e);
/* Removes a message: envelope first (so a crash leaves an orphan msg, not a ghost). */
int mg_spool_remove(const char *spool, const char *id);
/* Ids of all committed envelopes, sorted (oldest first); caller frees with
 * mg_spool_ids_free. */
int mg_spool_ids(const char *spool, char ***ids, size_t *n);
void mg_spool_ids_free(char **ids, size_t n);
int mg_spool_msg_path(const char *spool, const char *id, char *out, size_t cap);
#endif
