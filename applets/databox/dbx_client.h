/* dbx_client.h - the client side: a session with a databox server (config and token
 * under ~/.config/databox/, mode 0600) and the commands built on it. */
#ifndef DBX_CLIENT_H
#define DBX_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct net_httpc;
struct cry_rsa;

struct dbx_client {
	char dir[4096];
	json_t *cfg;            /* {"server", "ca", "user"} */
	char *token;
	struct net_httpc *http;
	const char *cmd;        /* for messages */
};

/* Loads the config (and token when need_token); prints why and returns an exit code
 * (0 on success). */
int dbx_cl_open(struct dbx_client *c, const char *cmd, int need_token);
void dbx_cl_close(struct dbx_client *c);
/* One JSON call; body may be NULL; *out gets the reply (may be NULL). Returns the HTTP
 * status, or -1 after printing why. */
int dbx_cl_call(struct dbx_client *c, const char *method, const char *path, json_t *body,
		json_t **out);
/* Prints the server's message for an unexpected status; returns the exit code. */
int dbx_cl_fail(struct dbx_client *c, int status, json_t *reply, const char *what);
int dbx_cl_exit_for(const char *cmd, int status, json_t *reply, const char *what);

/* An upload's chunks (dbx_client_chunks.c): POSTed to prefix?offset=N on http. */
struct dbx_chunks {
	struct net_httpc *http;
	const char *prefix;     /* "/api/v1/nodes/files/uploads/ID" or a share's ".../KEY/ID" */
	const char *auth;       /* "Authorization: Bearer ..." or NULL (an upload share) */
	size_t chunk;           /* bytes per chunk */
	uint64_t total;         /* for the progress bar */
	const char *cmd, *file, *name; /* for messages */
};
struct cry_gcm_stream;
/* The chunk size for an upload whose create reply said maxChunkSize (0 when it did not):
 * 8 MiB or the server's limit if that is less (4 KiB at least); 1 MiB from a server that
 * names none. */
size_t dbx_chunk_size(long long max_chunk);
/* Sends all of fd (encrypted by gs when not NULL); *sent = bytes acknowledged. Returns
 * 0 or an exit code after printing why. */
int dbx_send_chunks(const struct dbx_chunks *u, int fd, struct cry_gcm_stream *gs, uint64_t *sent);
/* Finds "ROOM[/DIR/...]"; returns the node (caller decrefs) or NULL after printing. */
json_t *dbx_cl_resolve(struct dbx_client *c, const char *path);
/* Fetches and unlocks the caller's key pair (key password from --key-password-file,
 * $DATABOX_KEY_PASSWORD or a prompt). *version is the key pair version. */
struct cry_rsa *dbx_cl_unlock(struct dbx_client *c, const char *pwfile, int *version, int *rc);
/* Wraps plain for every user missingFileKeys?QUERY lists and posts the keys;
 * priv may be NULL when every listed file is file_id (plain already known). */
int dbx_cl_distribute(struct dbx_client *c, const char *query, struct cry_rsa *priv, int version,
		      const void *plain_fk, long long *done);
/* A progress bar on stderr when it is a terminal. */
void dbx_progress(uint64_t done, uint64_t total, void *arg);

int dbx_client_main(int argc, char **argv);  /* login keygen room ls keypair distribute */
int dbx_cmd_upload(int argc, char **argv);
int dbx_cmd_download(int argc, char **argv);
int dbx_cmd_share(int argc, char **argv);
int dbx_cmd_upload_share(int argc, char **argv);
/* "share ls" / "share rm ID" (upload = 0) and the same for upload shares. */
int dbx_share_ls(int upload, int nargs, char **args);
int dbx_share_rm(int upload, int nargs, char **args);
#endif
