/* dbx_api_shares.c - download shares: one file, a fresh key pair whose private key is
 * protected by the share password (the server only stores it encrypted), the file key
 * wrapped for it, an expiry and a download limit. Only files can be shared, and only
 * with a password (docs/databox-api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "core/encoding.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "net/http.h"

/* expireAt (when given) in the future, the download or upload limit (when given) at least 1. */
static int limits_ok(const json_t *exp, const json_t *max)
{
	if (exp && !json_is_null(exp) && (!json_is_integer(exp) || json_integer_value(exp) <= (json_int_t)time(NULL)))
		return 0;
	return !max || json_is_null(max) || (json_is_integer(max) && json_integer_value(max) >= 1);
}

/* A fresh access key: 128 random bits, hex. */
static void access_key_new(char key[33])
{
	uint8_t rnd[16];
	cry_random(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), key, 33, 0);
}

/* 201 {"accessKey", "link"} with the public link under prefix. */
static void reply_link(struct net_http_req *r, const char *prefix, const char *key)
{
	char link[96];
	str_fmt(link, sizeof(link), "%s%s", prefix, key);
	dbx_reply_json(r, 201, json_pack("{s:s,s:s}", "accessKey", key, "link", link));
}

/* Inserts a share row with sql: access key, node, creator, expiry and limit (both may
 * be absent), then for download shares the key pair and file key texts. 0 or -1. */
static int share_insert(struct dbx_server *s, const char *sql, const char *key, long long node, long long uid,
			const json_t *exp, const json_t *max, const char *kptext, const char *fktext)
{
	sqlite3_stmt *st = dbx_db_prep(s, sql);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, node);
	sqlite3_bind_int64(st, 3, uid);
	if (json_is_integer(exp))
		sqlite3_bind_int64(st, 4, json_integer_value(exp));
	if (json_is_integer(max))
		sqlite3_bind_int64(st, 5, json_integer_value(max));
	if (kptext) {
		sqlite3_bind_text(st, 6, kptext, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, fktext, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void share_create(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	struct dbx_keypair kp;
	struct dbx_unlock_info info;
	struct dbx_file_key fk;
	char err[300], key[33];
	long long room;
	int enc;
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	json_t *nid = json_object_get(j, "nodeId"), *exp = json_object_get(j, "expireAt");
	json_t *maxd = json_object_get(j, "maxDownloads");
	json_t *kpj = json_object_get(j, "keyPair"), *fkj = json_object_get(j, "fileKey");
	long long node = json_is_integer(nid) ? json_integer_value(nid) : 0;
	int role = dbx_node_access(s, uid, node, &room, &enc);
	json_t *n = role >= DBX_ROLE_READ ? dbx_node_json(s, node, uid) : NULL;
	const char *type = json_string_value(json_object_get(n, "type"));
	char *kptext = NULL, *fktext = NULL;

	if (!n) {
		dbx_reply_error(r, 404, "no such node (or no access)");
		goto out;
	}
	/* publishing a file to people outside the room is a deliberate act: a reader may
	 * download, but not hand out a public link */
	if (role < DBX_ROLE_WRITE) {
		dbx_reply_error(r, 403, "creating a download share needs the write or manage role");
		goto out;
	}
	if (strcmp(type, "file") != 0) {
		dbx_reply_error(r, 400, "shares are only for files, not for a %s", type);
		goto out;
	}
	if (!enc) {
		dbx_reply_error(r, 400, "shares of files in unencrypted rooms are not supported");
		goto out;
	}
	if (!kpj || dbx_keypair_from_json(kpj, &kp, err, sizeof(err)) < 0 || !kp.private_pem ||
	    !kp.public_pem || dbx_private_key_info(kp.private_pem, &info) < 0) {
		dbx_reply_error(r, 400, "a share needs keyPair: a key pair whose private key is encrypted "
				"with the share password (share passwords are mandatory)");
		goto out;
	}
	if (!fkj || dbx_file_key_from_json(fkj, 1, &fk, err, sizeof(err)) < 0 || !fk.has_tag ||
	    fk.version != kp.pub_version) {
		dbx_reply_error(r, 400, "fileKey: the file key wrapped for the share's key pair: %s",
				fkj ? err : "missing");
		goto out;
	}
	if (!limits_ok(exp, maxd)) {
		dbx_reply_error(r, 400, "expireAt must be in the future and maxDownloads at least 1");
		goto out;
	}
	access_key_new(key);
	kptext = json_dumps(kpj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fktext = json_dumps(fkj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!kptext || !fktext ||
	    share_insert(s, "INSERT INTO shares(access_key, node_id, created_by, expire_at, max_downloads, keypair, "
			 "file_key) VALUES(?,?,?,?,?,?,?)", key, node, uid, exp, maxd, kptext, fktext) < 0) {
		dbx_reply_error(r, 500, "cannot store the share");
		goto out;
	}
	reply_link(r, DBX_SHARE_LINK, key);
out:
	free(kptext);
	free(fktext);
	json_decref(n);
	json_decref(j);
}

/* An upload share lets someone without an account put files into a room or folder:
 * they get the public keys of the room's managers (and its rescue key) and wrap the new
 * file key for those. */
static void upload_share_create(struct dbx_server *s, struct net_http_req *r, long long uid)
{
	long long room;
	int enc;
	char key[33];
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	json_t *t = json_object_get(j, "targetId"), *exp = json_object_get(j, "expireAt");
	json_t *maxu = json_object_get(j, "maxUploads");
	long long target = json_is_integer(t) ? json_integer_value(t) : 0;
	int role = dbx_node_access(s, uid, target, &room, &enc);
	json_t *n = role >= DBX_ROLE_WRITE ? dbx_node_json(s, target, uid) : NULL;
	if (!n) {
		dbx_reply_error(r, role < 0 ? 404 : 403, role < 0 ? "no such node" : "write access required");
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(n, "type")), "file") == 0) {
		dbx_reply_error(r, 400, "an upload share goes to a room or folder, not a file");
		goto out;
	}
	if (!enc) {
		dbx_reply_error(r, 400, "upload shares are for encrypted rooms");
		goto out;
	}
	if (!limits_ok(exp, maxu)) {
		dbx_reply_error(r, 400, "expireAt must be in the future and maxUploads at least 1");
		goto out;
	}
	access_key_new(key);
	if (share_insert(s, "INSERT INTO upload_shares(access_key, target_id, created_by, expire_at, max_uploads) "
			 "VALUES(?,?,?,?,?)", key, target, uid, exp, maxu, NULL, NULL) < 0) {
		dbx_reply_error(r, 500, "cannot store the upload share");
		goto out;
	}
	reply_link(r, DBX_UPLOAD_SHARE_LINK, key);
out:
	json_decref(n);
	json_decref(j);
}

static void r_upload_share_create(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	upload_share_create(s, r, uid);
}

static void r_share_create(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	share_create(s, r, uid);
}

const struct dbx_route dbx_shares_routes[] = {
	{ "POST", "/shares/uploads", r_upload_share_create },
	{ "POST", "/shares/downloads", r_share_create },
};
const size_t dbx_shares_nroutes = sizeof(dbx_shares_routes) / sizeof(dbx_shares_routes[0]);

/* The live share row for key; 0 when found (and not expired or used up). */
static int share_get(struct dbx_server *s, const char *key, long long *node, json_t **info)
{
	sqlite3_stmt *st = dbx_db_prep(s,
		"SELECT sh.node_id, n.name, n.size, sh.keypair, sh.file_key, sh.expire_at, "
		"CASE WHEN sh.max_downloads IS NULL THEN NULL ELSE sh.max_downloads - sh.downloads END "
		"FROM shares sh JOIN nodes n ON n.id = sh.node_id WHERE sh.access_key = ?1 "
		"AND (sh.expire_at IS NULL OR sh.expire_at > ?2) "
		"AND (sh.max_downloads IS NULL OR sh.downloads < sh.max_downloads)");
	int rc = -1;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	if (sqlite3_step(st) == SQLITE_ROW) {
		*node = sqlite3_column_int64(st, 0);
		if (info) {
			json_t *kp = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
			json_t *fk = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
			*info = json_pack("{s:s,s:I,s:b,s:o,s:O,s:O}", "name", (const char *)sqlite3_column_text(st, 1),
					  "size", (json_int_t)sqlite3_column_int64(st, 2), "isEncrypted", 1,
					  "fileKey", fk ? fk : json_null(),
					  "privateKeyContainer", json_object_get(kp, "privateKeyContainer"),
					  "publicKeyContainer", json_object_get(kp, "publicKeyContainer"));
			if (sqlite3_column_type(st, 5) != SQLITE_NULL)
				json_object_set_new(*info, "expireAt", json_integer(sqlite3_column_int64(st, 5)));
			if (sqlite3_column_type(st, 6) != SQLITE_NULL)
				json_object_set_new(*info, "downloadsLeft", json_integer(sqlite3_column_int64(st, 6)));
			json_decref(kp);
		}
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The live upload share: target, creator, room. 0 when found. */
static int upload_share_get(struct dbx_server *s, const char *key, long long *target, long long *creator,
			    int unused_only)
{
	sqlite3_stmt *st = dbx_db_prep(s, unused_only ?
		"SELECT target_id, created_by FROM upload_shares WHERE access_key = ?1 "
		"AND (expire_at IS NULL OR expire_at > ?2) AND (max_uploads IS NULL OR uploads < max_uploads)" :
		"SELECT target_id, created_by FROM upload_shares WHERE access_key = ?1 "
		"AND (expire_at IS NULL OR expire_at > ?2)");
	int rc = -1;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	if (sqlite3_step(st) == SQLITE_ROW) {
		*target = sqlite3_column_int64(st, 0);
		*creator = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int dbx_upload_share_live(struct dbx_server *s, const char *key)
{
	long long target, creator;
	return upload_share_get(s, key, &target, &creator, 0) == 0;
}

long long dbx_upload_share_writer(struct dbx_server *s, const char *key)
{
	long long target, creator, room;
	int enc;
	if (upload_share_get(s, key, &target, &creator, 0) < 0 ||
	    dbx_node_access(s, creator, target, &room, &enc) < DBX_ROLE_WRITE)
		return -1;
	return creator;
}

static int public_upload(struct dbx_server *s, struct net_http_req *r, const char *method, const char *path)
{
	char key[40], up[40], rest[32];
	long long target, creator, room;
	int enc;
	int n = sscanf(path, "/public/shares/uploads/%32[0-9a-f]/%32[0-9a-f]%31s", key, up, rest);
	if (n < 1 || strlen(key) != 32 || n == 3)
		return 0;
	/* an upload already started may finish even when it was the last one allowed */
	/* the creator's write access counts at every use: a share dies with it */
	if (upload_share_get(s, key, &target, &creator, n == 1) < 0 ||
	    dbx_node_access(s, creator, target, &room, &enc) < DBX_ROLE_WRITE) {
		dbx_reply_error(r, 404, "no such upload share (or it expired or was used up)");
		return 1;
	}
	if (n == 2) {
		if (strlen(up) != 32)
			return 0;
		if (strcmp(method, "POST") == 0)
			dbx_upload_chunk(s, r, creator, up, key);
		else if (strcmp(method, "PUT") == 0)
			dbx_upload_complete_share(s, r, creator, up, key);
		else
			dbx_reply_error(r, 405, "method not allowed");
		return 1;
	}
	if (strcmp(method, "GET") == 0) {
		/* the keys to wrap for: the room's managers and its rescue key */
		sqlite3_stmt *st = dbx_db_prep(s, "SELECT u.id, k.container FROM members m JOIN users u ON u.id = m.user_id "
					       "JOIN keypairs k ON k.user_id = u.id WHERE m.room_id = ? AND "
					       "(m.role = 3 OR u.name = 'rescue:' || m.room_id OR u.name = 'rescue:system') ORDER BY u.id");
		json_t *items = json_array();
		if (st) {
			sqlite3_bind_int64(st, 1, room);
			while (sqlite3_step(st) == SQLITE_ROW) {
				json_t *kp = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
				json_t *pub = json_object_get(kp, "publicKeyContainer");
				if (pub)
					json_array_append_new(items, json_pack("{s:I,s:O}", "id", (json_int_t)sqlite3_column_int64(st, 0),
									       "publicKeyContainer", pub));
				json_decref(kp);
			}
			sqlite3_finalize(st);
		}
		json_t *node = dbx_node_json(s, target, creator);
		dbx_reply_json(r, 200, json_pack("{s:O,s:b,s:{s:o}}", "name", json_object_get(node, "name"),
						 "isEncrypted", enc, "userUserPublicKeyList", "items", items));
		json_decref(node);
		return 1;
	}
	if (strcmp(method, "POST") == 0) {
		json_t *j = dbx_req_json(r);
		char id[33];
		if (!j)
			return 1;
		const char *name = json_string_value(json_object_get(j, "name"));
		if (!dbx_name_ok(name)) {
			json_decref(j);
			dbx_reply_error(r, 400, "name is required");
			return 1;
		}
		/* counted when it starts: the limit holds under parallel uploads */
		sqlite3_stmt *st = dbx_db_prep(s, "UPDATE upload_shares SET uploads = uploads + 1 WHERE access_key = ? "
					       "AND (max_uploads IS NULL OR uploads < max_uploads)");
		int ok = 0;
		if (st) {
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) == 1;
			sqlite3_finalize(st);
		}
		if (ok)
			ok = dbx_upload_start(s, creator, target, name, key, id) == 0;
		json_decref(j);
		if (!ok) {
			dbx_reply_error(r, 404, "no such upload share (or it was used up)");
			return 1;
		}
		dbx_reply_json(r, 201, json_pack("{s:s,s:I}", "uploadId", id, "maxChunkSize", (json_int_t)s->conf.max_chunk));
		return 1;
	}
	dbx_reply_error(r, 405, "method not allowed");
	return 1;
}

int dbx_api_public(struct dbx_server *s, struct net_http_req *r, const char *method, const char *path)
{
	char key[40], tail[32];
	long long node;
	if (str_has_prefix(path, "/public/shares/uploads/"))
		return public_upload(s, r, method, path);
	int n = sscanf(path, "/public/shares/downloads/%32[0-9a-f]%31s", key, tail);
	if (n < 1 || strlen(key) != 32 || strcmp(method, "GET") != 0)
		return 0;
	if (n == 1) {
		json_t *info = NULL;
		if (share_get(s, key, &node, &info) < 0)
			dbx_reply_error(r, 404, "no such share (or it expired or was used up)");
		else
			dbx_reply_json(r, 200, info);
		return 1;
	}
	if (strcmp(tail, "/download") != 0)
		return 0;
	/* count the download before sending it: a limit is never exceeded, even by
	 * parallel requests */
	sqlite3_stmt *st = dbx_db_prep(s, "UPDATE shares SET downloads = downloads + 1 WHERE access_key = ?1 "
				       "AND (expire_at IS NULL OR expire_at > ?2) "
				       "AND (max_downloads IS NULL OR downloads < max_downloads)");
	int ok = 0;
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (long long)time(NULL));
		ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) == 1;
		sqlite3_finalize(st);
	}
	st = ok ? dbx_db_prep(s, "SELECT node_id FROM shares WHERE access_key = ?") : NULL;
	ok = 0;
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			node = sqlite3_column_int64(st, 0);
			ok = 1;
		}
		sqlite3_finalize(st);
	}
	if (!ok) {
		dbx_reply_error(r, 404, "no such share (or it expired or was used up)");
		return 1;
	}
	dbx_stream_blob(s, r, node);
	return 1;
}
