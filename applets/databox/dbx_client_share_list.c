/* dbx_client_share_list.c - "databox share ls|rm ID" and "databox upload-share ls|rm ID":
 * the shares the caller created or manages (as a room manager), and cancelling one, after
 * which its link answers 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/databox/dbx_client.h"
#include "core/exitcode.h"
#include "core/str.h"

struct kind {
	const char *cmd;        /* "share" */
	const char *path;       /* API collection */
	const char *count, *max, *noun;
};

static const struct kind kinds[] = {
	{ "share", "/shares/downloads", "downloads", "maxDownloads", "downloads" },
	{ "upload-share", "/shares/uploads", "uploads", "maxUploads", "uploads" },
};

int dbx_share_ls(int upload, int nargs, char **args)
{
	const struct kind *k = &kinds[upload ? 1 : 0];
	struct dbx_client c;
	json_t *rep = NULL, *it;
	char cmd[32], when[40], lim[32];
	size_t i;
	int rc;

	if (nargs != 0) {
		fprintf(stderr, "Usage: databox %s ls\n", k->cmd);
		return EXIT_USAGE;
	}
	str_fmt(cmd, sizeof(cmd), "%s ls", k->cmd);
	if ((rc = dbx_cl_open(&c, cmd, 1)) != EXIT_OK)
		return rc;
	int st = dbx_cl_call(&c, "GET", k->path, NULL, &rep);
	if (st != 200) {
		rc = dbx_cl_fail(&c, st, rep, "listing");
		goto out;
	}
	/* one line per share, tab-separated: ID NAME USED[/MAX] EXPIRY CREATOR LINK */
	json_array_foreach(json_object_get(rep, "items"), i, it) {
		json_t *exp = json_object_get(it, "expireAt"), *max = json_object_get(it, k->max);
		if (json_is_integer(exp)) {
			time_t t = (time_t)json_integer_value(exp);
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
		} else {
			str_copy(when, "never", sizeof(when));
		}
		if (json_is_integer(max))
			str_fmt(lim, sizeof(lim), "/%lld", (long long)json_integer_value(max));
		else
			lim[0] = '\0';
		printf("%lld\t%s\t%lld%s %s\texpires %s\tby %s\t%s%s\n",
		       (long long)json_integer_value(json_object_get(it, "id")),
		       json_string_value(json_object_get(it, "name")),
		       (long long)json_integer_value(json_object_get(it, k->count)), lim, k->noun, when,
		       json_string_value(json_object_get(it, "createdBy")),
		       json_string_value(json_object_get(c.cfg, "server")),
		       json_string_value(json_object_get(it, "link")));
	}
	rc = EXIT_OK;
out:
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}

int dbx_share_rm(int upload, int nargs, char **args)
{
	const struct kind *k = &kinds[upload ? 1 : 0];
	struct dbx_client c;
	json_t *rep = NULL;
	char cmd[32], path[64], *end;
	int rc;

	long long id = nargs == 1 ? strtoll(args[0], &end, 10) : 0;
	if (nargs != 1 || id <= 0 || *end) {
		fprintf(stderr, "Usage: databox %s rm ID (the number %s ls shows)\n", k->cmd, k->cmd);
		return EXIT_USAGE;
	}
	str_fmt(cmd, sizeof(cmd), "%s rm", k->cmd);
	if ((rc = dbx_cl_open(&c, cmd, 1)) != EXIT_OK)
		return rc;
	str_fmt(path, sizeof(path), "%s/%lld", k->path, id);
	int st = dbx_cl_call(&c, "DELETE", path, NULL, &rep);
	if (st != 204) {
		rc = dbx_cl_fail(&c, st, rep, "cancelling");
		goto out;
	}
	printf("%s %lld cancelled: its link no longer works\n", k->cmd, id);
	rc = EXIT_OK;
out:
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}
