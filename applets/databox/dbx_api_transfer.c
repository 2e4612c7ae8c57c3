/* dbx_api_transfer.c - uploads in chunks (constant memory on both sides; a half upload
 * is never visible as a file) and streamed downloads of the stored ciphertext. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "applets/databox/dbx_stream.h"
#include "core/encoding.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "net/http.h"

#define DL_CHUNK (256 * 1024)

int dbx_upload_start(struct dbx_server *s, long long uid, long long parent, const char *name,
		     const char *share_key, char id[33])
{
	uint8_t rnd[16];
	char path[4200];
	cry_random(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), id, 33, 0);
	int fd = dbx_upload_path(s, id, path, sizeof(path)) == 0 ?
		 open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	sqlite3_stmt *st = dbx_db_prep(s, "INSERT INTO uploads(id, user_id, parent_id, name, created, share_key) "
				       "VALUES(?,?,?,?,?,?)");
	int ok = fd >= 0 && st;
	if (ok) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_int64(st, 3, parent);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (long long)time(NULL));
		sqlite3_bind_text(st, 6, share_key, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (fd >= 0)
		close(fd);
	if (!ok && fd >= 0)
		unlink(path);
	return ok ? 0 : -1;
}

static void upload_create(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	json_t *j = dbx_req_json(r);
	long long room;
	int enc;
	char id[33];
	if (!j)
		return;
	json_t *pid = json_object_get(j, "parentId");
	const char *name = json_string_value(json_object_get(j, "name"));
	json_t *size = json_object_get(j, "size");
	if (!json_is_integer(pid) || !dbx_name_ok(name)) {
		json_decref(j);
		dbx_reply_error(r, 400, "parentId and name are required");
		return;
	}
	if (json_is_integer(size) && (json_integer_value(size) < 0 ||
				      (unsigned long long)json_integer_value(size) > DBX_MAX_FILE_SIZE)) {
		json_decref(j);
		dbx_reply_error(r, 413, "files are limited to %llu GiB", DBX_MAX_FILE_SIZE >> 30);
		return;
	}
	if (dbx_parent_writable(s, r, uid, json_integer_value(pid), &room, &enc) < 0) {
		json_decref(j);
		return;
	}
	int ok = dbx_upload_start(s, uid, json_integer_value(pid), name, NULL, id) == 0;
	json_decref(j);
	if (!ok) {
		dbx_reply_error(r, 500, "cannot start the upload");
		return;
	}
	/* maxChunkSize (not DRACOON's): the largest chunk this server takes, so a client
	 * can send fewer, larger chunks (each is one round trip and one fdatasync) */
	dbx_reply_json(r, 201, json_pack("{s:s,s:b,s:I}", "uploadId", id, "isEncrypted", enc,
					 "maxChunkSize", (json_int_t)s->conf.max_chunk));
}

/* The upload row of id for uid: received bytes, parent, name (caller frees name). An
 * upload belongs to the way it was started: share_key NULL for the uploader's own
 * login, else the upload share it began through (and only that share continues it). */
int dbx_upload_get(struct dbx_server *s, const char *id, long long uid, const char *share_key,
		   long long *received, long long *parent, char **name)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT received, parent_id, name FROM uploads WHERE id = ? AND user_id = ? "
				       "AND share_key IS ?");
	int rc = -1;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, share_key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*received = sqlite3_column_int64(st, 0);
		*parent = sqlite3_column_int64(st, 1);
		if (name)
			*name = strdup((const char *)sqlite3_column_text(st, 2));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

void dbx_upload_chunk(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id,
		      const char *share_key)
{
	long long received, parent;
	char path[4200];
	size_t len;
	const char *off = net_http_query(r, "offset");
	void *sink = net_http_sink_take(r);
	if (dbx_upload_get(s, id, uid, share_key, &received, &parent, NULL) < 0) {
		dbx_upsink_free(sink);
		dbx_reply_error(r, 404, "no such upload");
		return;
	}
	if (sink) {
		long long got = dbx_upsink_check(sink, id, share_key, received, off);
		if (got >= 0 && dbx_upload_commit(s, r, sink, id) == 0)
			return;
		if (got >= 0)
			got = dbx_upsink_finish(sink, id, share_key, received, off);
		else
			dbx_upsink_free(sink);
		if (got < 0) {
			dbx_reply_error(r, 500, "cannot store the chunk");
			return;
		}
		len = (size_t)got;
		goto stored;
	}
	if (dbx_upload_busy(s, id)) {
		dbx_reply_error(r, 409, "another chunk of this upload is arriving now");
		return;
	}
	if (!off || strtoll(off, NULL, 10) != received) {
		dbx_reply_error(r, 409, "offset must be %lld (bytes received so far)", received);
		return;
	}
	const uint8_t *body = net_http_body(r, &len);
	if ((unsigned long long)received + len > DBX_MAX_FILE_SIZE) {
		dbx_reply_error(r, 413, "files are limited to %llu GiB", DBX_MAX_FILE_SIZE >> 30);
		return;
	}
	int fd = dbx_upload_path(s, id, path, sizeof(path)) == 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	if (fd < 0 || ftruncate(fd, received) < 0 || lseek(fd, received, SEEK_SET) < 0 ||
	    dbx_write_full(fd, body, len) < 0 || fdatasync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		log_warn("upload %s: %s", id, strerror(errno));
		dbx_reply_error(r, 500, "cannot store the chunk");
		return;
	}
	close(fd);
stored:
	if (dbx_upload_record(s->db, id, received, received + (long long)len) < 0) {
		dbx_reply_error(r, 500, "cannot record the chunk");
		return;
	}
	dbx_reply_json(r, 200, json_pack("{s:I}", "received", (json_int_t)(received + (long long)len)));
}

/* Completes upload id of uid (started through share_key, or NULL). keys: [{userId,
 * fileKey}] to store with the file (an encrypted room needs at least one that fits a
 * reading member's key pair). uid must still hold write on the parent: for an upload
 * share that is its creator, checked again at every use. */
static void complete(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id,
		     const char *share_key, json_t *keys)
{
	long long received, parent, room, nid = 0;
	int enc;
	char *name = NULL, part[4200], blob[4200], err[300];
	sqlite3_stmt *st = NULL;
	json_t *it;
	size_t i;

	if (dbx_upload_get(s, id, uid, share_key, &received, &parent, &name) < 0) {
		dbx_reply_error(r, 404, "no such upload");
		return;
	}
	/* a chunk arriving or committing now would land in (or be cut from) the file */
	if (dbx_upload_busy(s, id)) {
		dbx_reply_error(r, 409, "a chunk of this upload is arriving or being stored now");
		goto out;
	}
	int role = dbx_node_access(s, uid, parent, &room, &enc);
	if (role < DBX_ROLE_WRITE) {
		dbx_reply_error(r, 403, "write access required");
		goto out;
	}
	if (enc && json_array_size(keys) == 0) {
		dbx_reply_error(r, 400, "an encrypted room needs fileKey (the wrapped file key, with its tag)");
		goto out;
	}
	if (!enc && json_array_size(keys)) {
		dbx_reply_error(r, 400, "fileKey is only for encrypted rooms");
		goto out;
	}
	json_array_foreach(keys, i, it) {
		struct dbx_file_key fk;
		if (!json_is_integer(json_object_get(it, "userId")) ||
		    dbx_file_key_from_json(json_object_get(it, "fileKey"), 1, &fk, err, sizeof(err)) < 0 || !fk.has_tag) {
			dbx_reply_error(r, 400, "file key %zu: %s", i, json_object_get(it, "fileKey") ? err : "missing");
			goto out;
		}
		json_object_set_new(it, "version", json_string(dbx_fk_version_name(fk.version)));
		json_object_set_new(it, "kpVersion", json_string(dbx_kp_version_name(fk.version)));
	}
	if (dbx_upload_path(s, id, part, sizeof(part)) < 0 || dbx_db_begin(s) < 0) {
		dbx_reply_error(r, 500, "internal error");
		goto out;
	}
	st = dbx_db_prep(s, "INSERT INTO nodes(parent_id, room_id, type, name, encrypted, size, created_by) "
			    "SELECT ?1, ?2, 'file', ?3, ?4, ?5, ?6 WHERE (SELECT type FROM nodes WHERE id = ?1) != 'file'");
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, parent);
		sqlite3_bind_int64(st, 2, room);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, enc);
		sqlite3_bind_int64(st, 5, received);
		sqlite3_bind_int64(st, 6, uid);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		dbx_db_rollback(s);
		dbx_reply_error(r, 409, rc == SQLITE_CONSTRAINT ? "a node of that name exists there" :
				"cannot create the file there");
		goto out;
	}
	nid = sqlite3_last_insert_rowid(s->db);
	/* only for reading members with a key pair of the key's version */
	st = dbx_db_prep(s, "INSERT OR IGNORE INTO file_keys(node_id, user_id, version, file_key) SELECT ?1, ?2, ?3, ?4 "
			    "WHERE EXISTS(SELECT 1 FROM members WHERE room_id = ?5 AND user_id = ?2 AND role >= 1) "
			    "AND EXISTS(SELECT 1 FROM keypairs WHERE user_id = ?2 AND version = ?6)");
	int stored = 0;
	json_array_foreach(keys, i, it) {
		char *text = json_dumps(json_object_get(it, "fileKey"), JSON_COMPACT | JSON_PRESERVE_ORDER);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, nid);
		sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(it, "userId")));
		sqlite3_bind_text(st, 3, json_string_value(json_object_get(it, "version")), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, room);
		sqlite3_bind_text(st, 6, json_string_value(json_object_get(it, "kpVersion")), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_DONE)
			stored += sqlite3_changes(s->db);
		free(text);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (enc && !stored) {
		dbx_db_rollback(s);
		dbx_reply_error(r, 400, "no file key fits a key pair of a room member: nobody could read the file");
		goto out;
	}
	st = dbx_db_prep(s, "DELETE FROM uploads WHERE id = ?");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	/* The blob appears under its node id only now, and the row only with the commit;
	 * a crash in between leaves an orphan blob that start-up removes. */
	/* bytes past the last acknowledged chunk (one cut off mid-way) are not the file's */
	int fd = open(part, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (ftruncate(fd, received) < 0 || dbx_blob_path(s, nid, blob, sizeof(blob)) < 0) {
		close(fd);
		goto fail;
	}
	if (fs_commit(fd, part, blob, 0) < 0) /* fsync, rename, fsync of both directories */
		goto fail;
	if (dbx_db_commit(s) < 0) {
		rename(blob, part);
		goto fail;
	}
	dbx_reply_json(r, 201, dbx_node_json(s, nid, uid));
	goto out;
fail:
	dbx_db_rollback(s);
	dbx_reply_error(r, 500, "cannot complete the upload");
out:
	free(name);
}

static void upload_complete(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id)
{
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	json_t *fkj = json_object_get(j, "fileKey"), *keys = json_array();
	if (fkj && !json_is_null(fkj))
		json_array_append_new(keys, json_pack("{s:I,s:O}", "userId", (json_int_t)uid, "fileKey", fkj));
	complete(s, r, uid, id, NULL, keys);
	json_decref(keys);
	json_decref(j);
}

void dbx_upload_complete_share(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id,
			       const char *share_key)
{
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	json_t *items = json_object_get(json_object_get(j, "userFileKeyList"), "items");
	json_t *keys = json_is_array(items) ? json_deep_copy(items) : json_array();
	complete(s, r, uid, id, share_key, keys);
	json_decref(keys);
	json_decref(j);
}

static void upload_cancel(struct dbx_server *s, struct net_http_req *r, long long uid, const char *id)
{
	long long received, parent;
	char path[4200];
	if (dbx_upload_get(s, id, uid, NULL, &received, &parent, NULL) < 0) {
		dbx_reply_error(r, 404, "no such upload");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "DELETE FROM uploads WHERE id = ?");
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (dbx_upload_path(s, id, path, sizeof(path)) == 0)
		unlink(path);
	net_http_reply(r, 204, NULL, 0);
}

struct download {
	int fd;
	uint8_t *buf;
	uint64_t left;
};

static void dl_free(struct download *d)
{
	close(d->fd);
	free(d->buf);
	free(d);
}

static void dl_more(struct net_http_req *r, void *arg)
{
	struct download *d = arg;
	ssize_t n = d->left ? read(d->fd, d->buf, DL_CHUNK) : 0;
	if (n > 0) {
		int last = (uint64_t)n >= d->left;
		d->left -= last ? d->left : (uint64_t)n;
		if (net_http_stream_write(r, d->buf, (size_t)n, last) == 0)
			return;
	}
	d->left = 0;
	net_http_stream_end(r);
}

static void dl_gone(void *arg)
{
	dl_free(arg);
}

static void download(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long room;
	int enc;
	if (dbx_node_access(s, uid, id, &room, &enc) < DBX_ROLE_READ) {
		dbx_reply_error(r, 404, "no such file (or no access)");
		return;
	}
	dbx_stream_blob(s, r, id);
}

void dbx_stream_blob(struct dbx_server *s, struct net_http_req *r, long long id)
{
	char path[4200];
	struct stat st;
	struct download *d = calloc(1, sizeof(*d));
	if (!d || !(d->buf = malloc(DL_CHUNK)) || dbx_blob_path(s, id, path, sizeof(path)) < 0 ||
	    (d->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(d->fd, &st) < 0) {
		if (d) {
			free(d->buf);
			free(d);
		}
		dbx_reply_error(r, 404, "no such file");
		return;
	}
	d->left = (uint64_t)st.st_size;
	net_http_set_header(r, "Content-Type", "application/octet-stream");
	net_http_stream_start(r, 200, (uint64_t)st.st_size, dl_more, dl_gone, d);
}

static void r_upload_create(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	upload_create(s, r, uid);
}

static void r_upload_chunk(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	dbx_upload_chunk(s, r, uid, a->key, NULL);
}

static void r_upload_complete(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	upload_complete(s, r, uid, a->key);
}

static void r_upload_cancel(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	upload_cancel(s, r, uid, a->key);
}

static void r_download(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	download(s, r, uid, a->id);
}

const struct dbx_route dbx_transfer_routes[] = {
	{ "POST", "/nodes/files/uploads", r_upload_create },
	{ "POST", "/nodes/files/uploads/{key}", r_upload_chunk },
	{ "PUT", "/nodes/files/uploads/{key}", r_upload_complete },
	{ "DELETE", "/nodes/files/uploads/{key}", r_upload_cancel },
	{ "GET", "/nodes/files/{id}/downloads", r_download },
};
const size_t dbx_transfer_nroutes = sizeof(dbx_transfer_routes) / sizeof(dbx_transfer_routes[0]);
