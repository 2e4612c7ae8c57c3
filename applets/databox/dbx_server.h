/* dbx_server.h - the databox server: configuration, state (SQLite + blob directory),
 * authentication and the HTTP API (docs/databox-api.md). The server only ever stores
 * ciphertext, encrypted private keys and wrapped file keys. */
#ifndef DBX_SERVER_H
#define DBX_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>

struct net_loop;
struct net_worker;
struct net_http;
struct net_http_req;
struct cry_tls_ctx;
struct dbx_web;

struct dbx_conf {
	char *listen;
	int plain_http;          /* only on a loopback address */
	char *tls_cert, *tls_key;
	char *state_dir;
	long token_lifetime;     /* seconds */
	long password_iterations;
	long long max_chunk;
	long long max_json;      /* JSON bodies of logged-in users */
	long header_timeout;     /* seconds */
	long max_connections, max_connections_per_address;
	long login_max_failures;
	long login_lockout;      /* seconds */
	int log_level;           /* enum log_level */
	char *web_root;
	char *pidfile, *user;          /* the built web app (dbx_web.c); empty = none */
};

struct dbx_server {
	struct dbx_conf conf;
	struct net_loop *loop;
	struct net_http *http;
	struct cry_tls_ctx *tls;
	struct dbx_web *web;     /* NULL: no web app, the API only */
	sqlite3 *db;
	char blob_dir[4096];
	char upload_dir[4096];
	struct dbx_upsink *sinks; /* uploads a chunk streams into now (dbx_upload_sink.c) */
	struct net_worker *worker; /* chunk commits (dbx_upload_commit.c), created on first use */
	sqlite3 *wdb;             /* the worker thread's own connection: only its jobs use it */
};

/* ---- config (dbx_conf.c) ---- */
extern const struct conf_spec dbx_conf_spec;
int dbx_conf_load(struct dbx_conf *c, const char *path, char *err, size_t errlen);
void dbx_conf_free(struct dbx_conf *c);

/* ---- state (dbx_db.c) ---- */
/* Opens (creating) state_dir/databox.db in WAL mode and the blob directories; removes
 * what a crash left behind (half uploads are kept for resumption, orphan blobs go). */
int dbx_db_open(struct dbx_server *s, char *err, size_t errlen);
void dbx_db_close(struct dbx_server *s);
int dbx_db_exec(struct dbx_server *s, const char *sql);
/* Prepares; logs and returns NULL on error. */
sqlite3_stmt *dbx_db_prep(struct dbx_server *s, const char *sql);
int dbx_db_begin(struct dbx_server *s);
int dbx_db_commit(struct dbx_server *s);
void dbx_db_rollback(struct dbx_server *s);
/* Path of a blob/upload file by id. */
int dbx_blob_path(const struct dbx_server *s, long long id, char *out, size_t cap);
int dbx_upload_path(const struct dbx_server *s, const char *id, char *out, size_t cap);

/* ---- users and sessions (dbx_auth.c) ---- */
int dbx_user_add(struct dbx_server *s, const char *name, const char *password, int admin,
		 char *err, size_t errlen);
/* Checks a login; returns the user id, 0 on bad credentials, -1 on error, -2 when
 * rate limited. */
long long dbx_login(struct dbx_server *s, const char *name, const char *password,
		    const char *ip);
int dbx_user_is_admin(struct dbx_server *s, long long uid);
/* A new bearer token (hex) for uid; caller frees. */
char *dbx_token_new(struct dbx_server *s, long long uid, long long *expires);
/* The user of "Authorization: Bearer ..." or 0. */
long long dbx_token_user(struct dbx_server *s, const char *authorization);

/* ---- HTTP API (dbx_api*.c) ---- */
void dbx_api_handle(struct net_http_req *r, void *arg);
/* Request admission (net_http_admit_cb): max_chunk for a chunk upload by its owner or
 * through a live upload share, max_json for other requests with a valid token, 64 KiB
 * for the rest (login, public share endpoints). */
struct net_http_reqinfo;
uint64_t dbx_api_admit(const struct net_http_reqinfo *ri, void *arg);
#define DBX_ANON_BODY (64 * 1024)

/* Helpers the API files share. */
void dbx_reply_json(struct net_http_req *r, int code, json_t *j); /* steals j */
void dbx_reply_error(struct net_http_req *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Steps st (prepared and bound; NULL means a database error: 500) and replies 200 with
 * the JSON text in column 0 of its row, or 404 with none; finalizes st. */
void dbx_reply_stored_json(struct net_http_req *r, sqlite3_stmt *st, const char *none);
/* The request body as a JSON object, or NULL after replying 400. */
json_t *dbx_req_json(struct net_http_req *r);
/* Role of uid in the room holding node (0 none, 1 read, 2 write, 3 manage); *room and
 * *encrypted are filled when the node exists. -1 when the node does not exist. */
int dbx_node_access(struct dbx_server *s, long long uid, long long node, long long *room,
		    int *encrypted);
/* 0 when uid may write into parent (filling *room, *encrypted), else -1 after
 * replying 404 or 403. */
int dbx_parent_writable(struct dbx_server *s, struct net_http_req *r, long long uid, long long parent,
			long long *room, int *encrypted);

/* A usable node name: 1-255 bytes, no '/', not "." or "..". */
int dbx_name_ok(const char *name);

/* A node as the API shows it (NULL if it does not exist). */
json_t *dbx_node_json(struct dbx_server *s, long long id, long long uid);

enum { DBX_ROLE_NONE = 0, DBX_ROLE_READ = 1, DBX_ROLE_WRITE = 2, DBX_ROLE_MANAGE = 3 };

/* The request's UserKeyPairContainer (halves of one known version, the private key
 * encrypted), or NULL after an error reply; the caller json_decref()s it. */
struct dbx_keypair;
json_t *dbx_req_keypair(struct net_http_req *r, struct dbx_keypair *kp);
/* PUT of a new {"name"} for node id of type want ("file", "folder", "room"), for callers
 * with at least min_role in its room (dbx_api_rename.c); replies. */
void dbx_rename_node(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, const char *want,
		     int min_role);
/* Type ("file", "folder", "room") into type, creator and child count of node id; -1 when
 * it does not exist (dbx_api_rename.c). */
int dbx_node_info(struct dbx_server *s, long long id, char *type, size_t cap, long long *creator, int *children);
/* DELETE of a room or a folder with contents (dbx_api_tree.c): the manage role; replies. */
void dbx_tree_delete(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, int role,
		     int is_room);
/* ---- routes (dbx_route.c) ---- */
struct dbx_args {              /* what a pattern's {id} and {key} segments matched */
	long long id, id2;
	char key[33], key2[33];
};
typedef void (*dbx_handler)(struct dbx_server *s, struct net_http_req *r, long long uid,
			    const struct dbx_args *a);
struct dbx_route {
	const char *method;        /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;       /* after /api/v1: "/nodes/rooms/{id}/users" */
	dbx_handler fn;
};
/* 1 when pattern matches all of path (filling a). */
int dbx_route_match(const char *pattern, const char *path, struct dbx_args *a);
/* 1 and *out when a row matches method and path; -1 when rows match the path with other
 * methods only (405); 0 when none matches the path. */
int dbx_route_find(const struct dbx_route *t, size_t n, const char *method, const char *path,
		   const struct dbx_route **out, struct dbx_args *a);
/* The tables of the modules (logged-in routes): nodes, keys, uploads and downloads
 * (dbx_api_transfer.c), share creation (dbx_api_shares.c), share listing and
 * cancelling (dbx_api_share_list.c), the web app's members and keypair replacement
 * (dbx_api_members.c), renaming and deleting (dbx_api_rename.c). */
extern const struct dbx_route dbx_nodes_routes[], dbx_keys_routes[], dbx_transfer_routes[],
	dbx_shares_routes[], dbx_share_list_routes[], dbx_members_routes[], dbx_rename_routes[];
extern const size_t dbx_nodes_nroutes, dbx_keys_nroutes, dbx_transfer_nroutes, dbx_shares_nroutes,
	dbx_share_list_nroutes, dbx_members_nroutes, dbx_rename_nroutes;
extern const struct dbx_route dbx_tree_routes[]; /* dbx_api_tree.c */
extern const size_t dbx_tree_nroutes;

/* The public links, followed by the access key. */
#define DBX_SHARE_LINK "/api/v1/public/shares/downloads/"
#define DBX_UPLOAD_SHARE_LINK "/api/v1/public/shares/uploads/"
/* The public share endpoints (no login). */
int dbx_api_public(struct dbx_server *s, struct net_http_req *r, const char *method,
		   const char *path);
/* 1 when key names an upload share that is live (not expired). */
int dbx_upload_share_live(struct dbx_server *s, const char *key);
/* The user an upload share's chunks are written as (its creator, who must still hold
 * write on the target), or -1. */
long long dbx_upload_share_writer(struct dbx_server *s, const char *key);
/* Uploads, shared with upload shares (dbx_api_transfer.c). */
/* share_key: the upload share an upload is started through (NULL: the user's own); the
 * upload can then be continued and completed only through that share. */
int dbx_upload_start(struct dbx_server *s, long long uid, long long parent, const char *name,
		     const char *share_key, char id[33]);
void dbx_upload_chunk(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id,
		      const char *share_key);
/* The upload row of id for uid (started through share_key, or NULL): received bytes,
 * parent, name (caller frees; name may be NULL). 0 or -1. */
int dbx_upload_get(struct dbx_server *s, const char *id, long long uid, const char *share_key,
		   long long *received, long long *parent, char **name);
/* ---- streamed chunks (dbx_upload_sink.c) ---- */
struct net_http_sink;
int dbx_upload_sink(const struct net_http_reqinfo *ri, struct net_http_sink *out, void *arg);
int dbx_upload_busy(const struct dbx_server *s, const char *id);
/* Checks a streamed chunk against its request and syncs it; frees the sink. The bytes
 * written, or -1. */
long long dbx_upsink_finish(void *sink, const char *id, const char *share_key, long long received,
			    const char *offset);
void dbx_upsink_free(void *sink);
/* The checks of dbx_upsink_finish without the sync, the sink kept (and its upload busy). */
long long dbx_upsink_check(void *sink, const char *id, const char *share_key, long long received,
			   const char *offset);
int dbx_upsink_fd(const void *sink);
/* The bytes [*start, *end) of the file a checked sink holds. */
void dbx_upsink_span(const void *sink, long long *start, long long *end);
/* 1 when sink continues a chunk whose commit is not queued yet: commit is kept in sink
 * and queued by dbx_upsink_committing of that chunk (or dropped if it goes first). */
int dbx_upsink_hold(void *sink, void *commit);
/* Marks sink's commit queued; returns the held commit of the chunk after it, or NULL. */
void *dbx_upsink_committing(void *sink);
/* ---- a streamed chunk's fdatasync and SQLite commit on a worker (dbx_upload_commit.c) ---- */
/* Takes sink (checked by dbx_upsink_check) and answers r when the chunk is durable and
 * recorded. Returns 0, or -1 (nothing taken: the caller finishes the chunk itself). */
int dbx_upload_commit(struct dbx_server *s, struct net_http_req *r, void *sink, const char *id);
/* Answers a held commit 500 (the chunk before it went unrecorded) and frees it. */
void dbx_upload_commit_drop(void *commit);
void dbx_upload_commit_stop(struct dbx_server *s);
/* Records that upload id has received end bytes on disk, if it has start now (db: the
 * loop's s->db, or the worker's own connection). Returns 0, or -1 (the database refused,
 * or received was not start: the chunk before was not recorded). */
int dbx_upload_record(sqlite3 *db, const char *id, long long start, long long end);
void dbx_upload_complete_share(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id,
			       const char *share_key);
/* Streams blob id to r (shared by downloads and shares). */
void dbx_stream_blob(struct dbx_server *s, struct net_http_req *r, long long id);

/* ---- commands (dbx_serve.c) ---- */
int dbx_serve_main(int argc, char **argv);
int dbx_admin_main(int argc, char **argv);
#endif
