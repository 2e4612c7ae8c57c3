/* dbx_api_rename.c - renaming and deleting files and folders (the web app's file menu):
 *   PUT    /nodes/files/ID  or  /nodes/folders/ID   {"name": "..."}   write role
 *   DELETE /nodes/ID        a file, or an empty folder; the manage role or being its
 *          creator (the rule of a move out of the room: it takes the file from everyone);
 *          a room or a folder with contents: dbx_tree_delete() (dbx_api_tree.c)
 * Rooms are renamed in dbx_api_tree.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets/databox/dbx_server.h"
#include "net/http.h"

int dbx_node_info(struct dbx_server *s, long long id, char *type, size_t cap, long long *creator, int *children)
{
	sqlite3_stmt *st = dbx_db_prep(s, "SELECT type, COALESCE(created_by, 0), (SELECT COUNT(*) FROM nodes c "
				       "WHERE c.parent_id = n.id) FROM nodes n WHERE id = ?");
	int ok = -1;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(type, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		*creator = sqlite3_column_int64(st, 1);
		*children = sqlite3_column_int(st, 2);
		ok = 0;
	}
	sqlite3_finalize(st);
	return ok;
}

void dbx_rename_node(struct dbx_server *s, struct net_http_req *r, long long uid, long long id, const char *want,
		     int min_role)
{
	long long room, creator;
	int enc, children;
	char type[16];
	int role = dbx_node_access(s, uid, id, &room, &enc);
	if (role < DBX_ROLE_READ || dbx_node_info(s, id, type, sizeof(type), &creator, &children) < 0 ||
	    strcmp(type, want) != 0) {
		dbx_reply_error(r, 404, "no such %s (or no access)", want);
		return;
	}
	if (role < min_role) {
		dbx_reply_error(r, 403, min_role >= DBX_ROLE_MANAGE ? "only a room manager may rename the room"
								  : "renaming needs write access to the room");
		return;
	}
	json_t *j = dbx_req_json(r);
	if (!j)
		return;
	const char *name = json_string_value(json_object_get(j, "name"));
	if (!dbx_name_ok(name)) {
		json_decref(j);
		dbx_reply_error(r, 400, "name: 1 to 255 characters, no '/', not . or ..");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "UPDATE nodes SET name = ? WHERE id = ?");
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	json_decref(j);
	if (rc == SQLITE_CONSTRAINT)
		dbx_reply_error(r, 409, "that name is taken in this folder");
	else if (rc != SQLITE_DONE)
		dbx_reply_error(r, 500, "database error");
	else
		dbx_reply_json(r, 200, dbx_node_json(s, id, uid));
}

static void delete_node(struct dbx_server *s, struct net_http_req *r, long long uid, long long id)
{
	long long room, creator;
	int enc, children;
	char type[16], blob[4200];
	int role = dbx_node_access(s, uid, id, &room, &enc);
	if (role < DBX_ROLE_READ || dbx_node_info(s, id, type, sizeof(type), &creator, &children) < 0) {
		dbx_reply_error(r, 404, "no such node (or no access)");
		return;
	}
	/* a room, or a folder with contents: everything in it goes (dbx_api_tree.c) */
	if (strcmp(type, "room") == 0 || children) {
		dbx_tree_delete(s, r, uid, id, role, strcmp(type, "room") == 0);
		return;
	}
	if (role < DBX_ROLE_MANAGE && !(role >= DBX_ROLE_WRITE && creator == uid)) {
		dbx_reply_error(r, 403, "deleting needs the manage role in the room (or having created it)");
		return;
	}
	sqlite3_stmt *st = dbx_db_prep(s, "DELETE FROM nodes WHERE id = ?");
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		dbx_reply_error(r, 500, "database error");
		return;
	}
	/* the row (with its file keys and shares, ON DELETE CASCADE) is gone; then the blob */
	if (strcmp(type, "file") == 0 && dbx_blob_path(s, id, blob, sizeof(blob)) == 0)
		unlink(blob);
	net_http_reply(r, 204, NULL, 0);
}

static void r_rename_file(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	dbx_rename_node(s, r, uid, a->id, "file", DBX_ROLE_WRITE);
}

static void r_rename_folder(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	dbx_rename_node(s, r, uid, a->id, "folder", DBX_ROLE_WRITE);
}

static void r_delete(struct dbx_server *s, struct net_http_req *r, long long uid, const struct dbx_args *a)
{
	delete_node(s, r, uid, a->id);
}

const struct dbx_route dbx_rename_routes[] = {
	{ "PUT", "/nodes/files/{id}", r_rename_file },
	{ "PUT", "/nodes/folders/{id}", r_rename_folder },
	{ "DELETE", "/nodes/{id}", r_delete },
};
const size_t dbx_rename_nroutes = sizeof(dbx_rename_routes) / sizeof(dbx_rename_routes[0]);
