/* dbx_api_tree.c - what a room manager does to whole trees (the web app's room and
 * folder menus):
 *   PUT  /nodes/rooms/ID              {"name"}       rename a room (manage role)
 *   GET  /nodes/ID/summary            what a delete would remove: files, folders, bytes
 *   POST /nodes/folders/ID/move_to    {"targetId"}   a folder with everything in it
 *   POST /nodes/folders/ID/copy_to    {"targetId"}
 * and, called from DELETE /nodes/ID (dbx_api_rename.c), dbx_tree_delete() for a room or
 * a folder that is not empty (manage role: it takes files from everyone in the room).
 * The seed's rules are those of a file's copy or move: never between an encrypted and
 * an unencrypted room, a move out of a room needs the manage role there, an encrypted
 * copy carries only the caller's file keys (the others come from distribution). One
 * operation touches at most DBX_TREE_MAX nodes, so no request holds the database long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/databox/dbx_server.h"
#include "net/http.h"

#define DBX_TREE_MAX 10000

struct tnode {
	long long id, parent, nid; /* nid: the copy's id */
	int is_file, enc;
	long long size;
	char *name;
};

struct tree {
	struct tnode *v;
	size_t n;
};

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* The subtree at root, parents before children (root first). 0, -1 on a database
 * error, -2 when it has more than DBX_TREE_MAX nodes. */
static int tree_load(struct dbx_server *s, long long root, struct tree *t)
{
	sqlite3_stmt *st = dbx_db_prep(s,
		"WITH RECURSIVE t(id, depth) AS (SELECT ?1, 0 UNION ALL SELECT n.id, t.depth + 1 FROM nodes n "
		"JOIN t ON n.parent_id = t.id LIMIT ?2) SELECT n.id, COALESCE(n.parent_id, 0), n.type = 'file', "
		"n.encrypted, n.size, n.name FROM t JOIN nodes n ON n.id = t.id ORDER BY t.depth");
	memset(t, 0, sizeof(*t));
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, root);
	sqlite3_bind_int64(st, 2, DBX_TREE_MAX + 1);
	t->v = calloc(DBX_TREE_MAX + 1, sizeof(*t->v));
	int rc = SQLITE_ERROR;
	while (t->v && t->n <= DBX_TREE_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tnode *x = &t->v[t->n];
		x->id = sqlite3_column_int64(st, 0);
		x->parent = sqlite3_column_int64(st, 1);
		x->is_file = sqlite3_column_int(st, 2);
		x->enc = sqlite3_column_int(st, 3);
		x->size = sqlite3_column_int64(st, 4);
		if (!(x->name = strdup((const char *)sqlite3_column_text(st, 5))))
			break;
		t->n++;
	}
	sqlite3_finalize(st);
	int too_many = t->n > DBX_TREE_MAX;
	if (!t->v || too_many || rc != SQLITE_DONE) {
		tree_free(t);
		return too_many ? -2 : -1;
	}
	return 0;
}

static int tree_has(const struct tree *t, long long id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return 1;
	return 0;
}

/* Replies for a failed tree_load. */
static void tree_error(struct net_http_req *r, int rc)
{
	if (rc == -2)
		dbx_reply_error(r, 413, "more than %d files and folders in one operation; do it in smaller parts",
				DBX_TREE_MAX);
	else
		dbx_reply_error(r, 500, "database error");
}

/* The type of node id into type; -1 when it does not exist. */
static int node_type(struct dbx_server *s, long long id, char *type, size_t cap)
{
	long long creator;
	int children;
	return dbx_node_info(s, id, type, cap, &creator, &children);
}

static void summary(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long room, bytes = 0;
	int enc, files = 0, folders = 0;
	struct tree t;
	if (dbx_node_access(s, uid, id, &room, &enc) < DBX_ROLE_READ) {
		dbx_reply_error(r, 404, "no such node (or no access)");
		return;
	}
	int rc = tree_load(s, id, &t);
	if (rc < 0) {
		tree_error(r, rc);
		return;
	}
	for (size_t i = 1; i < t.n; i++) {
		if (t.v[i].is_file) {
			files++;
			bytes += t.v[i].size;
		} else {
			folders++;
		}
	}
	tree_free(&t);
	dbx_reply_json(r, 200, json_pack("{s:I,s:i,s:i,s:I}", "id", (json_int_t)id, "files", files,
					 "folders", folders, "size", (json_int_t)bytes));
}

/* Half uploads into any folder of t: their ids (for the files, removed after the
 * commit) into *ids, their rows deleted; inside the caller's transaction. */
static int drop_uploads(struct dbx_server *s, const struct tree *t, char ***ids, size_t *nids)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT id FROM uploads WHERE parent_id = ?");
	sqlite3_stmt *del = dbx_db_prep(s, "DELETE FROM uploads WHERE parent_id = ?");
	int ok = st && del ? 0 : -1;
	for (size_t i = 0; ok == 0 && i < t->n; i++) {
		if (t->v[i].is_file)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, t->v[i].id);
		while (ok == 0 && sqlite3_step(st) == SQLITE_ROW) {
			char **v = realloc(*ids, (*nids + 1) * sizeof(*v));
			if (!v || !(v[*nids] = strdup((const char *)sqlite3_column_text(st, 0)))) {
				if (v)
					*ids = v;
				ok = -1;
				break;
			}
			*ids = v;
			(*nids)++;
		}
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, t->v[i].id);
		if (ok == 0 && sqlite3_step(del) != SQLITE_DONE)
			ok = -1;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	return ok;
}

void dbx_tree_delete(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, int role,
		     int is_room)
{
	struct tree t;
	if (role < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, is_room ? "only a room manager may delete the room"
						: "deleting a folder with files or folders in it needs the manage role");
		return;
	}
	int rc = tree_load(s, id, &t);
	if (rc < 0) {
		tree_error(r, rc);
		return;
	}
	/* leaves first: no cascade has to walk the tree (file keys, shares and memberships
	 * of each row go with it, ON DELETE CASCADE) */
	sqlite3_stmt *st = dbx_db_prep(s, "DELETE FROM nodes WHERE id = ?");
	char **ups = NULL, path[4200];
	size_t nups = 0;
	int ok = st && dbx_db_begin(s) == 0 && drop_uploads(s, &t, &ups, &nups) == 0;
	for (size_t i = t.n; ok && i-- > 0;) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, t.v[i].id);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	/* a room's hidden rescue user goes with it: node ids can be reused, and a later room
	 * with this id must not inherit the old rescue key (and with it the file keys) */
	if (ok && is_room) {
		char name[40];
		snprintf(name, sizeof(name), "rescue:%lld", id);
		sqlite3_stmt *u = dbx_db_prep(s, "DELETE FROM users WHERE name = ?");
		if (u) {
			sqlite3_bind_text(u, 1, name, -1, SQLITE_STATIC);
			ok = sqlite3_step(u) == SQLITE_DONE;
		} else {
			ok = 0;
		}
		sqlite3_finalize(u);
	}
	if (!ok || dbx_db_commit(s) < 0) {
		dbx_db_rollback(s);
		ok = 0;
	}
	for (size_t i = 0; i < nups; i++) {
		if (ok && dbx_upload_path(s, ups[i], path, sizeof(path)) == 0)
			unlink(path);
		free(ups[i]);
	}
	free(ups);
	for (size_t i = 0; ok && i < t.n; i++)
		if (t.v[i].is_file && dbx_blob_path(s, t.v[i].id, path, sizeof(path)) == 0)
			unlink(path);
	tree_free(&t);
	if (!ok) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	net_http_reply(r, 204, NULL, 0);
}

/* The checks a folder's move or copy shares; 0 with the tree loaded, else -1 after a reply. */
static int prepare(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, int move,
		   long long *target, long long *troom, struct tree *t)
{
	long long sroom;
	int senc, tenc;
	char type[16], ttype[16];
	json_t *j = dbx_req_json(r);
	if (!j)
		return -1;
	json_t *tj = json_object_get(j, "targetId");
	*target = json_is_integer(tj) ? json_integer_value(tj) : 0;
	json_decref(j);
	int srole = dbx_node_access(s, uid, id, &sroom, &senc);
	int trole = dbx_node_access(s, uid, *target, troom, &tenc);
	if (srole < DBX_ROLE_READ || trole < DBX_ROLE_READ || node_type(s, id, type, sizeof(type)) < 0 ||
	    node_type(s, *target, ttype, sizeof(ttype)) < 0) {
		dbx_reply_error(r, 404, "no such folder or target (or no access)");
		return -1;
	}
	if (strcmp(type, "folder") != 0 || strcmp(ttype, "file") == 0) {
		dbx_reply_error(r, 400, "a folder goes into a room or another folder");
		return -1;
	}
	if (trole < DBX_ROLE_WRITE || (move && srole < DBX_ROLE_WRITE)) {
		dbx_reply_error(r, 403, "write access required");
		return -1;
	}
	if (move && sroom != *troom && srole < DBX_ROLE_MANAGE) {
		dbx_reply_error(r, 403, "moving a folder out of a room needs the manage role there; copy it instead");
		return -1;
	}
	if (senc != tenc) {
		dbx_reply_error(r, 400, "cannot %s between an encrypted and an unencrypted room", move ? "move" : "copy");
		return -1;
	}
	int rc = tree_load(s, id, t);
	if (rc < 0) {
		tree_error(r, rc);
		return -1;
	}
	if (tree_has(t, *target)) {
		tree_free(t);
		dbx_reply_error(r, 400, "a folder cannot go into itself");
		return -1;
	}
	return 0;
}

static void folder_move(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long target, troom;
	struct tree t;
	if (prepare(s, r, uid, id, 1, &target, &troom, &t) < 0)
		return;
	sqlite3_stmt *mv = dbx_db_prep(s, "UPDATE nodes SET parent_id = ? WHERE id = ?");
	sqlite3_stmt *rm = dbx_db_prep(s, "UPDATE nodes SET room_id = ? WHERE id = ?");
	/* file keys stay only for members of the new room */
	sqlite3_stmt *fk = dbx_db_prep(s, "DELETE FROM file_keys WHERE node_id = ?1 AND user_id NOT IN "
				       "(SELECT user_id FROM members WHERE room_id = ?2)");
	int ok = mv && rm && fk && dbx_db_begin(s) == 0, conflict = 0;
	if (ok) {
		sqlite3_bind_int64(mv, 1, target);
		sqlite3_bind_int64(mv, 2, id);
		int rc = sqlite3_step(mv);
		conflict = rc == SQLITE_CONSTRAINT;
		ok = rc == SQLITE_DONE;
	}
	for (size_t i = 0; ok && i < t.n; i++) {
		sqlite3_reset(rm);
		sqlite3_bind_int64(rm, 1, troom);
		sqlite3_bind_int64(rm, 2, t.v[i].id);
		ok = sqlite3_step(rm) == SQLITE_DONE;
		if (ok && t.v[i].is_file) {
			sqlite3_reset(fk);
			sqlite3_bind_int64(fk, 1, t.v[i].id);
			sqlite3_bind_int64(fk, 2, troom);
			ok = sqlite3_step(fk) == SQLITE_DONE;
		}
	}
	sqlite3_finalize(mv);
	sqlite3_finalize(rm);
	sqlite3_finalize(fk);
	tree_free(&t);
	if (!ok || dbx_db_commit(s) < 0) {
		dbx_db_rollback(s);
		if (conflict)
			dbx_reply_error(r, 409, "a file or folder of that name is there already");
		else
			dbx_reply_error(r, 500, "database error");
		return;
	}
	dbx_reply_json(r, 200, dbx_node_json(s, id, uid));
}

static struct tnode *find(struct tree *t, long long id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

/* One node of a copy (parents are copied before children). 0, -1 on error, 1 on a name
 * conflict; *linked counts the blobs hard-linked so far. */
static int copy_one(struct dbx_server *s, struct tree *t, size_t i, long long target, long long troom,
		    long long uid, sqlite3_stmt *ins, sqlite3_stmt *key, size_t *skipped)
{
	struct tnode *x = &t->v[i];
	struct tnode *p = i ? find(t, x->parent) : NULL;
	if (i && (!p || !p->nid))
		return 0; /* under a folder that was not copied: nothing to do */
	if (x->is_file && x->enc) {
		/* an encrypted file is copied only with the caller's file key: without it nobody
		 * could ever open the copy */
		sqlite3_stmt *q = dbx_db_prep(s, "SELECT 1 FROM file_keys WHERE node_id = ? AND user_id = ?");
		int have = 0;
		if (q) {
			sqlite3_bind_int64(q, 1, x->id);
			sqlite3_bind_int64(q, 2, uid);
			have = sqlite3_step(q) == SQLITE_ROW;
			sqlite3_finalize(q);
		}
		if (!have) {
			(*skipped)++;
			return 0;
		}
	}
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, i ? p->nid : target);
	sqlite3_bind_int64(ins, 2, troom);
	sqlite3_bind_text(ins, 3, x->is_file ? "file" : "folder", -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, x->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 5, x->enc);
	sqlite3_bind_int64(ins, 6, x->size);
	sqlite3_bind_int64(ins, 7, uid);
	int rc = sqlite3_step(ins);
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	if (rc != SQLITE_DONE)
		return -1;
	x->nid = sqlite3_last_insert_rowid(s->db);
	if (!x->is_file)
		return 0;
	sqlite3_reset(key);
	sqlite3_bind_int64(key, 1, x->nid);
	sqlite3_bind_int64(key, 2, x->id);
	sqlite3_bind_int64(key, 3, uid);
	char src[4200], dst[4200];
	if (sqlite3_step(key) != SQLITE_DONE || dbx_blob_path(s, x->id, src, sizeof(src)) < 0 ||
	    dbx_blob_path(s, x->nid, dst, sizeof(dst)) < 0 || link(src, dst) < 0) {
		x->nid = -x->nid; /* not linked: nothing to unlink */
		return -1;
	}
	return 0;
}

static void folder_copy(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long target, troom;
	struct tree t;
	size_t skipped = 0;
	if (prepare(s, r, uid, id, 0, &target, &troom, &t) < 0)
		return;
	sqlite3_stmt *ins = dbx_db_prep(s, "INSERT INTO nodes(parent_id, room_id, type, name, encrypted, size, "
				       "created_by) VALUES(?, ?, ?, ?, ?, ?, ?)");
	sqlite3_stmt *key = dbx_db_prep(s, "INSERT INTO file_keys(node_id, user_id, version, file_key) SELECT ?1, "
				       "user_id, version, file_key FROM file_keys WHERE node_id = ?2 AND user_id = ?3");
	int rc = ins && key && dbx_db_begin(s) == 0 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		rc = copy_one(s, &t, i, target, troom, uid, ins, key, &skipped);
	sqlite3_finalize(ins);
	sqlite3_finalize(key);
	long long nid = t.n ? t.v[0].nid : 0;
	if (rc != 0 || dbx_db_commit(s) < 0) {
		dbx_db_rollback(s);
		char dst[4200];
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].is_file && t.v[i].nid > 0 && dbx_blob_path(s, t.v[i].nid, dst, sizeof(dst)) == 0)
				unlink(dst);
		tree_free(&t);
		if (rc == 1)
			dbx_reply_error(r, 409, "a file or folder of that name is there already");
		else
			dbx_reply_error(r, 500, "cannot copy the folder");
		return;
	}
	tree_free(&t);
	json_t *j = dbx_node_json(s, nid, uid);
	if (j)
		json_object_set_new(j, "skippedFiles", json_integer((json_int_t)skipped));
	dbx_reply_json(r, 201, j);
}

#define ROUTE(name, body) \
	static void name(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a) \
	{                                                                                                    \
		body;                                                                                        \
	}
ROUTE(r_room_rename, dbx_rename_node(s, r, uid, a->id, "room", DBX_ROLE_MANAGE))
ROUTE(r_summary, summary(s, r, uid, a->id))
ROUTE(r_folder_move, folder_move(s, r, uid, a->id))
ROUTE(r_folder_copy, folder_copy(s, r, uid, a->id))
#undef ROUTE

const struct dbx_route dbx_tree_routes[] = {
	{ "PUT", "/nodes/rooms/{id}", r_room_rename },
	{ "GET", "/nodes/{id}/summary", r_summary },
	{ "POST", "/nodes/folders/{id}/move_to", r_folder_move },
	{ "POST", "/nodes/folders/{id}/copy_to", r_folder_copy },
};
const size_t dbx_tree_nroutes = sizeof(dbx_tree_routes) / sizeof(dbx_tree_routes[0]);
