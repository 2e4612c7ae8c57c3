/* dbx_client_xfer.c - "databox upload" and "databox download": files stream through
 * AES-256-GCM in chunks of up to 8 MiB (constant memory whatever the size); a download appears
 * under its name only after the tag verified. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/databox/dbx_client.h"
#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_stream.h"
#include "core/fs.h"
#include "core/exitcode.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "net/httpc.h"

#define UP_CHUNK (1024 * 1024) /* the download's decrypt and write step */

static const struct option xopts[] = {
	{ "key-password-file", required_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

static int parse_x(int argc, char **argv, const char **keypw)
{
	int ch;
	optind = 0;
	*keypw = NULL;
	while ((ch = getopt_long(argc, argv, "", xopts, NULL)) != -1) {
		if (ch != 'k')
			return -1;
		*keypw = optarg;
	}
	return optind;
}

int dbx_cmd_upload(int argc, char **argv)
{
	struct dbx_client c;
	struct dbx_file_key fk, enc;
	struct cry_gcm_stream *gs = NULL;
	struct cry_rsa *pub = NULL;
	struct stat sb;
	const char *keypw;
	char err[300];
	json_t *parent = NULL, *rep = NULL, *kpj = NULL, *body;
	int fd = -1, rc, st;
	uint64_t off = 0;

	memset(&fk, 0, sizeof(fk));
	int i = parse_x(argc, argv, &keypw);
	if (i < 0 || argc - i != 2) {
		fprintf(stderr, "Usage: databox upload FILE ROOM[/PATH]\n");
		return EXIT_USAGE;
	}
	const char *file = argv[i], *dest = argv[i + 1];
	const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "databox upload: %s: %s\n", file, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return EXIT_NOINPUT;
	}
	if ((uint64_t)sb.st_size > DBX_MAX_FILE_SIZE) {
		fprintf(stderr, "databox upload: %s: larger than the %llu GiB maximum\n", file, DBX_MAX_FILE_SIZE >> 30);
		close(fd);
		return EXIT_DATAERR;
	}
	if ((rc = dbx_cl_open(&c, "upload", 1)) != EXIT_OK) {
		close(fd);
		return rc;
	}
	if (!(parent = dbx_cl_resolve(&c, dest))) {
		rc = EXIT_NOINPUT;
		goto out;
	}
	int encrypted = json_is_true(json_object_get(parent, "isEncrypted"));
	int kp_version = 0;
	if (encrypted) {
		struct dbx_keypair kp;
		st = dbx_cl_call(&c, "GET", "/user/account/keypair", NULL, &kpj);
		if (st != 200) {
			rc = dbx_cl_fail(&c, st, kpj, "your key pair (run databox keygen)");
			goto out;
		}
		if (dbx_keypair_from_json(kpj, &kp, err, sizeof(err)) < 0 ||
		    !(pub = dbx_keypair_public(&kp, err, sizeof(err)))) {
			fprintf(stderr, "databox upload: your key pair: %s\n", err);
			rc = EXIT_DATAERR;
			goto out;
		}
		kp_version = kp.pub_version;
		if (dbx_file_key_new(&fk) < 0 || !(gs = cry_gcm_stream_new(fk.key, fk.iv, DBX_FILE_IV_LEN, 1))) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
	}
	body = json_pack("{s:I,s:s,s:I}", "parentId", json_integer_value(json_object_get(parent, "id")),
			 "name", name, "size", (json_int_t)sb.st_size);
	st = dbx_cl_call(&c, "POST", "/nodes/files/uploads", body, &rep);
	json_decref(body);
	const char *upid = json_string_value(json_object_get(rep, "uploadId"));
	if (st != 201 || !upid) {
		rc = dbx_cl_fail(&c, st, rep, "starting the upload");
		goto out;
	}
	char up[40];
	str_copy(up, upid, sizeof(up));
	json_int_t maxc = json_integer_value(json_object_get(rep, "maxChunkSize"));
	char prefix[100], auth[200];
	str_fmt(prefix, sizeof(prefix), "/api/v1/nodes/files/uploads/%s", up);
	str_fmt(auth, sizeof(auth), "Authorization: Bearer %s", c.token);
	struct dbx_chunks u = { c.http, prefix, auth, dbx_chunk_size(maxc), (uint64_t)sb.st_size, "upload", file, name };
	rc = dbx_send_chunks(&u, fd, gs, &off);
	secret_wipe(auth, sizeof(auth));
	if (rc != EXIT_OK)
		goto out;
	char path[200];
	json_decref(rep);
	rep = NULL;
	str_fmt(path, sizeof(path), "/nodes/files/uploads/%s", up);
	if (gs) {
		if (cry_gcm_stream_final(gs, fk.tag) < 0) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
		fk.has_tag = 1;
		if (dbx_file_key_wrap(&fk, pub, kp_version, &enc, err, sizeof(err)) < 0) {
			fprintf(stderr, "databox upload: %s\n", err);
			rc = EXIT_SOFTWARE;
			goto out;
		}
		body = json_pack("{s:o}", "fileKey", dbx_file_key_to_json(&enc));
	} else {
		body = json_object();
	}
	st = dbx_cl_call(&c, "PUT", path, body, &rep);
	json_decref(body);
	if (st != 201) {
		rc = dbx_cl_fail(&c, st, rep, "completing the upload");
		goto out;
	}
	long long nid = json_integer_value(json_object_get(rep, "id"));
	printf("uploaded %s to %s (%llu bytes%s)\n", name, dest, (unsigned long long)off,
	       encrypted ? ", encrypted" : "");
	rc = EXIT_OK;
	if (encrypted) {
		/* serve the other members (and key holders) right away, as DRACOON's clients do */
		long long done;
		str_fmt(path, sizeof(path), "file_id=%lld", nid);
		if (dbx_cl_distribute(&c, path, NULL, kp_version, &fk, &done) == EXIT_OK && done)
			printf("file key shared with %lld member key%s\n", done, done == 1 ? "" : "s");
	}
out:
	if (fd >= 0)
		close(fd);
	cry_gcm_stream_free(gs);
	cry_rsa_free(pub);
	dbx_file_key_wipe(&fk);
	json_decref(kpj);
	json_decref(rep);
	json_decref(parent);
	dbx_cl_close(&c);
	return rc;
}

struct dl {
	struct cry_gcm_stream *gs;
	int fd;
	uint64_t done, total, wb;
	const char *name;
	uint8_t *obuf;   /* plaintext waiting to be written: UP_CHUNK bytes */
	size_t olen;
};

#define DL_WRITEBACK (8 * 1024 * 1024) /* bytes between write-back starts */

/* Writes what obuf holds: one write(2) per MiB instead of one per TLS record (16 KiB). */
static int dl_flush(struct dl *d)
{
	if (!d->olen)
		return 0;
	if (fs_write_all(d->fd, d->obuf, d->olen) < 0)
		return -1;
	d->done += d->olen;
	d->olen = 0;
	/* the disk writes while more arrives: the commit's fsync has only the tail left */
	if (d->done - d->wb >= DL_WRITEBACK) {
		fs_writeback_start(d->fd, (off_t)d->wb, (off_t)(d->done - d->wb));
		d->wb = d->done;
	}
	dbx_progress(d->done, d->total, (void *)d->name);
	return 0;
}

static int dl_sink(const uint8_t *data, size_t len, void *arg)
{
	struct dl *d = arg;
	while (len) {
		size_t n = UP_CHUNK - d->olen;
		if (n > len)
			n = len;
		if (d->gs) {
			if (cry_gcm_stream_update(d->gs, data, n, d->obuf + d->olen) < 0)
				return -1;
		} else {
			memcpy(d->obuf + d->olen, data, n);
		}
		d->olen += n;
		data += n;
		len -= n;
		if (d->olen == UP_CHUNK && dl_flush(d) < 0)
			return -1;
	}
	return 0;
}

int dbx_cmd_download(int argc, char **argv)
{
	struct dbx_client c;
	struct dbx_file_key enc, plain;
	struct dbx_outfile of = { .fd = -1 };
	struct dl d;
	const char *keypw;
	char err[300], path[200], auth[200];
	json_t *node = NULL, *fkj = NULL;
	struct cry_rsa *k = NULL;
	int rc, version;

	memset(&plain, 0, sizeof(plain));
	memset(&d, 0, sizeof(d));
	int i = parse_x(argc, argv, &keypw);
	if (i < 0 || argc - i != 2) {
		fprintf(stderr, "Usage: databox download ROOM/PATH OUT [--key-password-file FILE]\n");
		return EXIT_USAGE;
	}
	if ((rc = dbx_cl_open(&c, "download", 1)) != EXIT_OK)
		return rc;
	if (!(node = dbx_cl_resolve(&c, argv[i]))) {
		rc = EXIT_NOINPUT;
		goto out;
	}
	long long id = json_integer_value(json_object_get(node, "id"));
	d.total = (uint64_t)json_integer_value(json_object_get(node, "size"));
	d.name = argv[i + 1];
	if (json_is_true(json_object_get(node, "isEncrypted"))) {
		str_fmt(path, sizeof(path), "/nodes/files/%lld/user_file_key", id);
		int st = dbx_cl_call(&c, "GET", path, NULL, &fkj);
		if (st != 200) {
			rc = dbx_cl_fail(&c, st, fkj, "your file key");
			goto out;
		}
		if (!(k = dbx_cl_unlock(&c, keypw, &version, &rc)))
			goto out;
		rc = EXIT_DATAERR;
		if (dbx_file_key_from_json(fkj, 1, &enc, err, sizeof(err)) < 0 ||
		    dbx_file_key_unwrap(&enc, k, version, &plain, err, sizeof(err)) < 0 || !plain.has_tag) {
			fprintf(stderr, "databox download: file key: %s\n", plain.has_tag || err[0] ? err : "no tag");
			goto out;
		}
		d.gs = cry_gcm_stream_new(plain.key, plain.iv, DBX_FILE_IV_LEN, 0);
		if (!d.gs) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
	}
	if (!(d.obuf = malloc(UP_CHUNK))) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (dbx_outfile_open(&of, argv[i + 1], 0644) < 0) {
		fprintf(stderr, "databox download: %s: %s\n", argv[i + 1], strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	d.fd = of.fd;
	str_fmt(path, sizeof(path), "/api/v1/nodes/files/%lld/downloads", id);
	str_fmt(auth, sizeof(auth), "Authorization: Bearer %s", c.token);
	const char *hdrs[] = { auth, NULL };
	int st = net_httpc_request(c.http, "GET", path, hdrs, NULL, 0, dl_sink, &d, NULL, NULL, 0, err, sizeof(err));
	secret_wipe(auth, sizeof(auth));
	if (st != 200) {
		if (st < 0)
			fprintf(stderr, "databox download: %s\n", err);
		rc = st < 0 ? EXIT_IOERR : dbx_cl_fail(&c, st, NULL, "download");
		goto out;
	}
	if (dl_flush(&d) < 0) {
		fprintf(stderr, "databox download: %s: %s\n", argv[i + 1], strerror(errno));
		rc = EXIT_IOERR;
		goto out;
	}
	if (d.gs && cry_gcm_stream_final(d.gs, plain.tag) < 0) {
		fprintf(stderr, "databox download: authentication failed: the data or its file key was altered "
			"(GCM tag mismatch); no output written\n");
		rc = EXIT_DATAERR;
		goto out;
	}
	if (dbx_outfile_commit(&of) < 0) {
		fprintf(stderr, "databox download: %s: %s\n", argv[i + 1], strerror(errno));
		rc = EXIT_IOERR;
		goto out;
	}
	printf("downloaded %s (%llu bytes)\n", argv[i], (unsigned long long)d.done);
	rc = EXIT_OK;
out:
	dbx_outfile_abort(&of);
	cry_gcm_stream_free(d.gs);
	if (d.obuf) {
		secret_wipe(d.obuf, UP_CHUNK);
		free(d.obuf);
	}
	dbx_file_key_wipe(&plain);
	cry_rsa_free(k);
	json_decref(fkj);
	json_decref(node);
	dbx_cl_close(&c);
	return rc;
}
