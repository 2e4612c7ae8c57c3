/* vw_drop.c - drop put/get/ls for viewer-client: end-to-end sealed files on the relay.
 *
 * Stored object (docs/viewer-protocol.md section 7):
 *   header  "SBD1" u16 epoch, 16 random salt bytes               (22 bytes, plaintext)
 *   chunk 0 sealed meta: u64 size, u8 name length, name padded to 255 (280 bytes)
 *   chunk i sealed data: 32 KiB of the file (the last one shorter), i = 1..N
 * Per file key Kf = HKDF(G_epoch, salt "sealbox-drop-v3", info "file" 0 session
 * stored-name salt); nonce = 0000 0000 || u64 i; AAD = header || stored name || u64 i ||
 * u8 last. G_epoch is the group key of the epoch in the header (only approved members
 * get it). The stored name is hex(HMAC(Kn, NAME))[0..40] with Kn = HKDF(name key, ...,
 * "name" 0 session), the name key being the group's, stable for the session,
 * so the relay learns neither the name nor the contents, and a chunk moved to another
 * place or another file, a truncation or a swapped header fails authentication. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_drop.h"
#include "applets/viewer/vw_files.h"
#include "core/encoding.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/tframe.h"
#include "crypto/crypto.h"

#define LABEL "sealbox-drop-v3"
#define HDR_LEN 22
#define SALT_LEN 16
#define NAME_MAX_LEN 255
#define META_PT (8 + 1 + NAME_MAX_LEN)
#define META_CT (META_PT + CRY_GCM_TAG_LEN)
#define CH (32 * 1024)
#define RNAME_LEN 40
#define FRAME_ROOM (CH + 512)

enum dop { OP_PUT, OP_GET, OP_LS };
enum dstate { S_SEND, S_WAIT_OK, S_WAIT_FILE, S_DATA, S_LS_WAIT, S_LS_GET, S_LS_SKIP, S_DONE };

struct vw_drop {
	enum dop op;
	enum dstate st;
	uint32_t session;
	const struct vw_group *group;
	char name[NAME_MAX_LEN + 1];
	char rname[RNAME_LEN + 1];
	const char *local;
	char tmp[4200];
	int fd;
	struct cry_aead *aead;
	uint8_t hdr[HDR_LEN];
	uint64_t size, nchunks, idx, total, moved;
	uint8_t *buf;       /* one chunk being reassembled (get), one frame (put) */
	size_t blen;
	char *list;         /* ls: the relay's listing, and where we are in it */
	size_t list_len, list_pos;
	unsigned long long list_size;
	int unreadable;
};

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int derive(const uint8_t key[VW_KEY_LEN], const char *what, uint32_t session,
		  const void *extra, size_t elen, uint8_t out[32])
{
	uint8_t info[16 + RNAME_LEN + SALT_LEN];
	size_t wl = strlen(what), n = 0;

	memcpy(info, what, wl);
	n = wl;
	info[n++] = 0;
	info[n++] = (uint8_t)(session >> 24);
	info[n++] = (uint8_t)(session >> 16);
	info[n++] = (uint8_t)(session >> 8);
	info[n++] = (uint8_t)session;
	if (elen)
		memcpy(info + n, extra, elen);
	n += elen;
	return cry_hkdf_sha256(key, VW_KEY_LEN, LABEL, strlen(LABEL), info, n, out, 32);
}

static int stored_name(const struct vw_group *g, uint32_t session, const char *name,
		       char out[RNAME_LEN + 1])
{
	uint8_t kn[32], mac[CRY_SHA256_LEN];
	int rc = -1;

	if (derive(g->name_key, "name", session, NULL, 0, kn) == 0 &&
	    cry_hmac_sha256(kn, sizeof(kn), name, strlen(name), mac) == 0 &&
	    hex_encode(mac, RNAME_LEN / 2, out, RNAME_LEN + 1, 0) == 0)
		rc = 0;
	cry_wipe(kn, sizeof(kn));
	return rc;
}

/* The per-file AEAD for the header in d->hdr under key. */
static int file_key(struct vw_drop *d, const struct vw_key *key)
{
	uint8_t extra[RNAME_LEN + SALT_LEN], kf[32];

	memcpy(extra, d->rname, RNAME_LEN);
	memcpy(extra + RNAME_LEN, d->hdr + 6, SALT_LEN);
	if (d->aead)
		cry_aead_free(d->aead);
	d->aead = NULL;
	if (derive(key->k, "file", d->session, extra, sizeof(extra), kf) == 0)
		d->aead = cry_aead_new(kf);
	cry_wipe(kf, sizeof(kf));
	return d->aead ? 0 : -1;
}

static void chunk_params(const struct vw_drop *d, uint64_t i, uint8_t nonce[12], uint8_t *aad,
			 size_t *aadlen)
{
	memset(nonce, 0, 4);
	put_u64(nonce + 4, i);
	memcpy(aad, d->hdr, HDR_LEN);
	memcpy(aad + HDR_LEN, d->rname, RNAME_LEN);
	put_u64(aad + HDR_LEN + RNAME_LEN, i);
	aad[HDR_LEN + RNAME_LEN + 8] = i == d->nchunks;
	*aadlen = HDR_LEN + RNAME_LEN + 9;
}

#define AAD_MAX (HDR_LEN + RNAME_LEN + 9)

static int seal_chunk(struct vw_drop *d, uint64_t i, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12], aad[AAD_MAX];
	size_t al;

	chunk_params(d, i, nonce, aad, &al);
	return cry_aead_seal(d->aead, nonce, sizeof(nonce), aad, al, pt, len, out, out + len);
}

static int open_chunk(struct vw_drop *d, uint64_t i, uint8_t *ct, size_t len)
{
	uint8_t nonce[12], aad[AAD_MAX];
	size_t al;

	if (len < CRY_GCM_TAG_LEN)
		return -1;
	chunk_params(d, i, nonce, aad, &al);
	return cry_aead_open(d->aead, nonce, sizeof(nonce), aad, al, ct, len - CRY_GCM_TAG_LEN, ct,
			     ct + len - CRY_GCM_TAG_LEN);
}

static uint64_t chunk_ct_len(const struct vw_drop *d, uint64_t i)
{
	uint64_t off;

	if (i == 0)
		return META_CT;
	off = (i - 1) * CH;
	return (d->size - off < CH ? d->size - off : CH) + CRY_GCM_TAG_LEN;
}

static int name_ok(const char *n)
{
	return *n && strlen(n) <= NAME_MAX_LEN && !strchr(n, '\n');
}

int vw_drop_args_ok(int argc, char **argv)
{
	if (argc < 1)
		return 0;
	if (strcmp(argv[0], "put") == 0)
		return (argc == 2 || argc == 3) && (argc == 2 || name_ok(argv[2]));
	if (strcmp(argv[0], "get") == 0)
		return argc == 3 && name_ok(argv[1]);
	return strcmp(argv[0], "ls") == 0 && argc == 1;
}

static int send_drop(struct vw_conn *relay, const char *ctl, const uint8_t *data, size_t len,
		     uint8_t *scratch, size_t cap)
{
	ssize_t hl = tfdrop_encode_head(scratch, cap, ctl, strlen(ctl));

	if (hl < 0 || (size_t)hl + len > cap)
		return -1;
	if (len)
		memmove(scratch + hl, data, len);
	return vw_conn_send_frame(relay, TF_DROP, TF_ID_RELAY, scratch, (size_t)hl + len);
}

static int start_put(struct vw_drop *d, char **argv, struct vw_conn *relay)
{
	struct stat st;
	const char *slash;
	char ctl[128];

	d->local = argv[1];
	slash = strrchr(argv[1], '/');
	if (!d->name[0])
		snprintf(d->name, sizeof(d->name), "%s", slash ? slash + 1 : argv[1]);
	if (!name_ok(d->name)) {
		fprintf(stderr, "viewer-client: drop put: give a NAME\n");
		return EXIT_USAGE;
	}
	d->fd = open(d->local, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "viewer-client: %s: %s\n", d->local,
			d->fd < 0 ? strerror(errno) : "not a regular file");
		return EXIT_NOINPUT;
	}
	d->size = (uint64_t)st.st_size;
	d->nchunks = (d->size + CH - 1) / CH;
	d->total = HDR_LEN + META_CT + d->size + d->nchunks * CRY_GCM_TAG_LEN;
	memcpy(d->hdr, "SBD1", 4);
	d->hdr[4] = (uint8_t)(d->group->g[0].epoch >> 8);
	d->hdr[5] = (uint8_t)d->group->g[0].epoch;
	if (cry_random(d->hdr + 6, SALT_LEN) < 0 ||
	    stored_name(d->group, d->session, d->name, d->rname) < 0 || file_key(d, &d->group->g[0]) < 0)
		return EXIT_SOFTWARE;
	snprintf(ctl, sizeof(ctl), "op=put\nname=%s\nsize=%llu\n", d->rname, (unsigned long long)d->total);
	if (send_drop(relay, ctl, NULL, 0, d->buf, FRAME_ROOM) < 0)
		return EXIT_SOFTWARE;
	d->st = S_SEND;
	return -1;
}

static int start_get(struct vw_drop *d, const char *rname, struct vw_conn *relay)
{
	char ctl[128];

	snprintf(ctl, sizeof(ctl), "op=get\nname=%s\n", rname);
	if (send_drop(relay, ctl, NULL, 0, d->buf, FRAME_ROOM) < 0)
		return EXIT_SOFTWARE;
	d->idx = d->moved = d->blen = 0;
	d->total = 0;
	return -1;
}

struct vw_drop *vw_drop_start(int argc, char **argv, uint32_t session,
			      const struct vw_group *group, struct vw_conn *relay, int *rc)
{
	struct vw_drop *d = calloc(1, sizeof(*d));

	*rc = EXIT_OSERR;
	if (!d || !(d->buf = malloc(FRAME_ROOM))) {
		free(d);
		return NULL;
	}
	d->fd = -1;
	d->session = session;
	d->group = group;
	if (strcmp(argv[0], "put") == 0) {
		d->op = OP_PUT;
		if (argc == 3)
			snprintf(d->name, sizeof(d->name), "%s", argv[2]);
		*rc = start_put(d, argv, relay);
	} else if (strcmp(argv[0], "get") == 0) {
		const char *slash = strrchr(argv[2], '/');
		d->op = OP_GET;
		snprintf(d->name, sizeof(d->name), "%s", argv[1]);
		d->local = argv[2];
		*rc = stored_name(group, session, d->name, d->rname) < 0 ? EXIT_SOFTWARE : -1;
		if (*rc < 0) {
			snprintf(d->tmp, sizeof(d->tmp), "%.*s.sealbox-drop-%ld",
				 slash ? (int)(slash - argv[2] + 1) : 0, argv[2], (long)getpid());
			*rc = start_get(d, d->rname, relay);
		}
		d->st = S_WAIT_FILE;
	} else {
		d->op = OP_LS;
		*rc = send_drop(relay, "op=ls\n", NULL, 0, d->buf, FRAME_ROOM) < 0 ? EXIT_SOFTWARE : -1;
		d->st = S_LS_WAIT;
	}
	if (*rc >= 0) {
		vw_drop_free(d);
		return NULL;
	}
	return d;
}

int vw_drop_wants_out(const struct vw_drop *d)
{
	return d->op == OP_PUT && d->st == S_SEND;
}

int vw_drop_pump(struct vw_drop *d, struct vw_conn *relay)
{
	uint8_t *p = d->buf + 64; /* the DROP head goes in front */

	while (d->st == S_SEND && vw_conn_room(relay) >= FRAME_ROOM + TFRAME_HDR_LEN) {
		size_t n;
		if (d->idx == 0) {
			uint8_t meta[META_PT];
			memset(meta, 0, sizeof(meta));
			put_u64(meta, d->size);
			meta[8] = (uint8_t)strlen(d->name);
			memcpy(meta + 9, d->name, strlen(d->name));
			memcpy(p, d->hdr, HDR_LEN);
			if (seal_chunk(d, 0, meta, sizeof(meta), p + HDR_LEN) < 0)
				return EXIT_SOFTWARE;
			cry_wipe(meta, sizeof(meta));
			n = HDR_LEN + META_CT;
		} else {
			uint64_t off = (d->idx - 1) * CH;
			size_t want = (size_t)chunk_ct_len(d, d->idx) - CRY_GCM_TAG_LEN;
			ssize_t r = pread(d->fd, p, want, (off_t)off);
			if (r != (ssize_t)want) {
				fprintf(stderr, "viewer-client: %s: %s\n", d->local,
					r < 0 ? strerror(errno) : "the file shrank while being sent");
				return EXIT_IOERR;
			}
			if (seal_chunk(d, d->idx, p, want, p) < 0)
				return EXIT_SOFTWARE;
			n = want + CRY_GCM_TAG_LEN;
		}
		if (send_drop(relay, "op=data\n", p, n, d->buf, FRAME_ROOM) < 0)
			return EXIT_SOFTWARE;
		d->moved += n;
		if (d->idx++ == d->nchunks)
			d->st = S_WAIT_OK;
	}
	return -1;
}

static int relay_error(struct vw_drop *d, const struct tfctl *ctl)
{
	const char *code = tfctl_get(ctl, "code"), *msg = tfctl_get(ctl, "msg");
	const char *what = d->op == OP_PUT ? "put" : d->op == OP_GET ? "get" : "ls";

	code = code ? code : "error";
	if (strcmp(code, "quota") == 0)
		fprintf(stderr, "viewer-client: drop %s: the relay's drop quota for this session is exceeded (%s)\n",
			what, msg ? msg : "quota");
	else if (strcmp(code, "no-such-file") == 0)
		fprintf(stderr, "viewer-client: drop %s: no such file in the drop: %s\n", what, d->name);
	else if (strcmp(code, "exists") == 0)
		fprintf(stderr, "viewer-client: drop %s: %s is already in the drop\n", what, d->name);
	else
		fprintf(stderr, "viewer-client: drop %s: the relay said %s%s%s\n", what, code,
			msg ? ": " : "", msg ? msg : "");
	if (strcmp(code, "quota") == 0 || strcmp(code, "exists") == 0)
		return EXIT_CANTCREAT;
	if (strcmp(code, "no-such-file") == 0)
		return EXIT_NOINPUT;
	return EXIT_UNAVAILABLE;
}

/* Header + meta are in d->buf: checks them and sets size/nchunks. 0 or -1. */
static int open_meta(struct vw_drop *d)
{
	uint8_t *m = d->buf + HDR_LEN;
	uint16_t epoch;
	const struct vw_key *key = NULL;
	size_t nl;

	memcpy(d->hdr, d->buf, HDR_LEN);
	if (memcmp(d->hdr, "SBD1", 4) != 0)
		return -1;
	epoch = (uint16_t)(d->hdr[4] << 8 | d->hdr[5]);
	for (int i = 0; i < d->group->n && !key; i++)
		if (d->group->g[i].epoch == epoch)
			key = &d->group->g[i];
	if (!key || file_key(d, key) < 0)
		return -1;
	/* meta carries "last" only for an empty file, which the reader does not know yet:
	 * try both, and check below that the size agrees with the one that verified */
	int last = 1;
	uint8_t copy[META_CT]; /* a failed open wipes its buffer */
	memcpy(copy, m, META_CT);
	d->nchunks = 0;
	if (open_chunk(d, 0, m, META_CT) < 0) {
		last = 0;
		d->nchunks = 1;
		memcpy(m, copy, META_CT);
		if (open_chunk(d, 0, m, META_CT) < 0)
			return -1;
	}
	d->size = get_u64(m);
	nl = m[8];
	if (nl == 0 || d->size > (1ULL << 50) || (d->size == 0) != last)
		return -1;
	d->nchunks = (d->size + CH - 1) / CH;
	if (d->op == OP_GET && (strlen(d->name) != nl || memcmp(d->name, m + 9, nl) != 0))
		return -1;
	memcpy(d->name, m + 9, nl);
	d->name[nl] = '\0';
	cry_wipe(m, META_PT);
	return 0;
}

static int fail_get(struct vw_drop *d, const char *why)
{
	fprintf(stderr, "viewer-client: drop get: %s; %s not written\n", why, d->local);
	return EXIT_DATAERR;
}

/* Raw bytes of a get: reassembles and opens chunks, writes the plaintext. */
static int get_data(struct vw_drop *d, const uint8_t *p, size_t len)
{
	while (len) {
		size_t need = d->idx == 0 ? HDR_LEN + META_CT : (size_t)chunk_ct_len(d, d->idx), take;
		if (d->idx > d->nchunks)
			return fail_get(d, "more data than the file holds");
		take = need - d->blen < len ? need - d->blen : len;
		memcpy(d->buf + d->blen, p, take);
		d->blen += take;
		p += take;
		len -= take;
		d->moved += take;
		if (d->blen < need)
			break;
		if (d->idx == 0) {
			if (open_meta(d) < 0)
				return fail_get(d, "the file header failed authentication (a group key we do not hold, or altered)");
			if (HDR_LEN + META_CT + d->size + d->nchunks * CRY_GCM_TAG_LEN != d->total)
				return fail_get(d, "the stored size does not match");
		} else {
			size_t n = need - CRY_GCM_TAG_LEN;
			if (open_chunk(d, d->idx, d->buf, need) < 0) {
				char why[96];
				snprintf(why, sizeof(why), "chunk %llu failed authentication",
					 (unsigned long long)d->idx);
				return fail_get(d, why);
			}
			if (pwrite(d->fd, d->buf, n, (off_t)((d->idx - 1) * CH)) != (ssize_t)n) {
				fprintf(stderr, "viewer-client: %s: %s\n", d->tmp, strerror(errno));
				return EXIT_IOERR;
			}
			cry_wipe(d->buf, n);
		}
		d->idx++;
		d->blen = 0;
	}
	return -1;
}

static int get_frame(struct vw_drop *d, const char *op, const struct tfctl *ctl,
		     const uint8_t *data, size_t dlen)
{
	const char *v;

	if (strcmp(op, "error") == 0)
		return relay_error(d, ctl);
	if (d->st == S_WAIT_FILE && strcmp(op, "file") == 0) {
		v = tfctl_get(ctl, "size");
		if (!v || (v = tfctl_get(ctl, "name")) == NULL || strcmp(v, d->rname) != 0)
			return EXIT_PROTOCOL;
		d->total = strtoull(tfctl_get(ctl, "size"), NULL, 10);
		d->fd = open(d->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (d->fd < 0) {
			fprintf(stderr, "viewer-client: %s: %s\n", d->tmp, strerror(errno));
			d->tmp[0] = '\0';
			return EXIT_CANTCREAT;
		}
		d->st = S_DATA;
		return -1;
	}
	if (d->st == S_DATA && strcmp(op, "data") == 0)
		return get_data(d, data, dlen);
	if (d->st == S_DATA && strcmp(op, "end") == 0) {
		if (d->idx != d->nchunks + 1 || d->blen || d->moved != d->total)
			return fail_get(d, "the stored file is truncated");
		int fd = d->fd, rc = ftruncate(fd, (off_t)d->size), e = errno;
		d->fd = -1;
		if (rc < 0) {
			close(fd);
			errno = e;
		} else { /* fsync, close, rename, fsync of the directory */
			rc = fs_commit(fd, d->tmp, d->local, 0);
		}
		if (rc < 0) {
			fprintf(stderr, "viewer-client: %s: %s\n", d->local, strerror(errno));
			return EXIT_CANTCREAT;
		}
		d->tmp[0] = '\0';
		fprintf(stderr, "viewer-client: drop get: %s, %llu bytes, every chunk verified\n", d->name,
			(unsigned long long)d->size);
		return EXIT_OK;
	}
	return -1;
}

/* ls: asks for the next listed file's first bytes (its sealed name); EXIT_OK at the end. */
static int ls_next(struct vw_drop *d, struct vw_conn *relay)
{
	while (d->list_pos < d->list_len) {
		char *line = d->list + d->list_pos, *nl = memchr(line, '\n', d->list_len - d->list_pos);
		char *sp;
		if (!nl)
			break;
		*nl = '\0';
		d->list_pos = (size_t)(nl - d->list) + 1;
		sp = strchr(line, ' ');
		if (!sp || (size_t)(sp - line) != RNAME_LEN)
			continue; /* not one of ours */
		memcpy(d->rname, line, RNAME_LEN);
		d->rname[RNAME_LEN] = '\0';
		d->list_size = strtoull(sp + 1, NULL, 10);
		d->unreadable = 0;
		d->st = S_LS_GET;
		return start_get(d, d->rname, relay);
	}
	return EXIT_OK;
}

static int ls_frame(struct vw_drop *d, struct vw_conn *relay, const char *op,
		    const struct tfctl *ctl, const uint8_t *data, size_t dlen)
{
	if (d->st == S_LS_WAIT) {
		if (strcmp(op, "error") == 0)
			return relay_error(d, ctl);
		if (strcmp(op, "list") != 0)
			return -1;
		if (tfctl_get(ctl, "truncated"))
			fprintf(stderr, "viewer-client: drop ls: the list is truncated\n");
		d->list = malloc(dlen + 1);
		if (!d->list)
			return EXIT_OSERR;
		memcpy(d->list, data, dlen);
		d->list_len = dlen;
		return ls_next(d, relay);
	}
	if (d->st == S_LS_GET) {
		int done = 0;
		if (strcmp(op, "data") == 0) {
			size_t take = HDR_LEN + META_CT - d->blen < dlen ? HDR_LEN + META_CT - d->blen : dlen;
			memcpy(d->buf + d->blen, data, take);
			d->blen += take;
			if (d->blen == HDR_LEN + META_CT) {
				if (open_meta(d) == 0)
					printf("%s\t%llu\n", d->name, (unsigned long long)d->size);
				else
					d->unreadable = 1;
				done = 1;
			}
		} else if (strcmp(op, "end") == 0 || strcmp(op, "error") == 0) {
			d->unreadable = 1;
			done = 1;
		}
		if (!done)
			return -1;
		if (d->unreadable)
			fprintf(stderr, "viewer-client: drop ls: %s (%llu bytes) is not readable with our group keys\n",
				d->rname, d->list_size);
		d->st = S_LS_SKIP;
		/* the rest of that file is not needed: abort, then skip up to the relay's ok */
		return send_drop(relay, "op=abort\n", NULL, 0, d->buf, FRAME_ROOM) < 0 ? EXIT_SOFTWARE : -1;
	}
	if (d->st == S_LS_SKIP && strcmp(op, "ok") == 0)
		return ls_next(d, relay);
	return -1;
}

int vw_drop_frame(struct vw_drop *d, struct vw_conn *relay, const uint8_t *payload, size_t len)
{
	static struct tfctl ctl; /* large; one drop per process */
	const uint8_t *data;
	size_t dlen;
	const char *op;

	if (tfdrop_parse(&ctl, payload, len, &data, &dlen) < 0 || !(op = tfctl_get(&ctl, "op"))) {
		fprintf(stderr, "viewer-client: malformed drop frame from the relay\n");
		return EXIT_PROTOCOL;
	}
	if (d->op == OP_PUT) {
		if (strcmp(op, "error") == 0)
			return relay_error(d, &ctl);
		if (strcmp(op, "ok") == 0 && d->st == S_WAIT_OK) {
			fprintf(stderr, "viewer-client: drop put: %s, %llu bytes, stored encrypted (%llu bytes on the relay)\n",
				d->name, (unsigned long long)d->size, (unsigned long long)d->total);
			return EXIT_OK;
		}
		return -1;
	}
	if (d->op == OP_GET)
		return get_frame(d, op, &ctl, data, dlen);
	return ls_frame(d, relay, op, &ctl, data, dlen);
}

void vw_drop_free(struct vw_drop *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->tmp[0] && d->op == OP_GET && d->st == S_DATA)
		unlink(d->tmp);
	if (d->aead)
		cry_aead_free(d->aead);
	if (d->buf)
		cry_wipe(d->buf, FRAME_ROOM);
	free(d->buf);
	free(d->list);
	cry_wipe(d, sizeof(*d));
	free(d);
}
