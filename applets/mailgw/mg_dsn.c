/* mg_dsn.c - delivery status notifications (RFC 3464 message/delivery-status inside
 * RFC 6522 multipart/report). Sent from the null sender, so a DSN that fails is never
 * bounced again; the original message's headers (not its body) are attached. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/mailgw/mg_deliver.h"
#include "core/log.h"
#include "core/str.h"

#define DSN_HEADERS_MAX (64 * 1024)

static void rfc5322_date(char *out, size_t cap, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, cap, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* An enhanced status code "c.s.d" at p: its length, else 0. */
static size_t enh_len(const char *p)
{
	size_t n = strcspn(p, " ");
	if (n < 5 || n > 11 || p[0] < '2' || p[0] > '5' || p[1] != '.')
		return 0;
	for (size_t i = 2; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
			return 0;
	return n;
}

/* "550 5.1.1 text" or "4.4.7 text" -> the enhanced code; else 5.0.0. */
static void status_of(const char *err, char *out, size_t cap)
{
	const char *p = err;
	size_t n = enh_len(p);
	if (!n && (p = strchr(err, ' ')))
		n = enh_len(++p);
	if (n && n < cap) {
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	str_copy(out, "5.0.0", cap);
}

/* Copies the original header block into w: only complete header lines before the
 * first empty line. A message whose first DSN_HEADERS_MAX bytes hold no header/body
 * break gets nothing attached: whatever is there may be body text, and a DSN must
 * never carry body text back (it may go to a forged sender). */
static void copy_headers(struct mg_ctx *ctx, const struct mg_env *e, struct mg_msg_writer *w)
{
	char p[512], buf[DSN_HEADERS_MAX];
	size_t n = 0;
	int fd;

	if (mg_spool_msg_path(ctx->conf.spool, e->id, p, sizeof(p)) < 0 ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	/* The break is an empty line: "\r\n" at the very start or "\r\n\r\n". */
	char *end = n >= 2 && buf[0] == '\r' && buf[1] == '\n' ? buf : memmem(buf, n, "\r\n\r\n", 4);
	if (!end) {
		log_info("dsn %s: no header/body break in the first %d bytes, headers not attached",
			 e->id, DSN_HEADERS_MAX);
		return;
	}
	size_t len = end == buf ? 0 : (size_t)(end - buf) + 2;
	/* a line starting with "--" could end our MIME part early: indent such lines */
	size_t i = 0;
	while (i < len) {
		char *nl = memchr(buf + i, '\n', len - i);
		size_t ll = (size_t)(nl - (buf + i)) + 1;   /* len ends with "\r\n": nl found */
		if (ll >= 2 && buf[i] == '-' && buf[i + 1] == '-')
			mg_msg_writer_write(w, " ", 1);
		mg_msg_writer_write(w, buf + i, ll);
		i += ll;
	}
}

static void put(struct mg_msg_writer *w, const char *s)
{
	mg_msg_writer_write(w, s, strlen(s));
}

int mg_dsn_queue(struct mg_ctx *ctx, struct mg_env *e, char *newid, size_t idcap)
{
	struct mg_msg_writer *w = NULL;
	struct mg_env d;
	char line[4096], date[64], arr[64], st[16];
	size_t nfailed = 0;
	int rc = -1;

	mg_env_init(&d);
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == MG_RCPT_FAILED)
			nfailed++;
	if (nfailed == 0)
		return 0;
	if (!e->from[0] || e->bounce) {
		log_info("dsn %s: %zu recipients failed; null sender, no bounce sent", e->id, nfailed);
		goto mark;
	}
	if (mg_spool_new_id(d.id, sizeof(d.id)) < 0 || mg_env_add_rcpt(&d, e->from) < 0 ||
	    !(w = malloc(sizeof(*w))) || mg_msg_writer_open(w, ctx->conf.spool, d.id) < 0) {
		free(w);
		mg_env_free(&d);
		return -1;
	}
	time_t now = time(NULL);
	rfc5322_date(date, sizeof(date), now);
	rfc5322_date(arr, sizeof(arr), (time_t)e->created);
	snprintf(line, sizeof(line),
		 "From: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <%s>\r\n"
		 "Subject: Undelivered Mail Returned to Sender\r\nDate: %s\r\n"
		 "Message-ID: <%s.dsn@%s>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s/%s\"\r\n\r\n"
		 "This is a MIME-encapsulated message.\r\n\r\n--%s/%s\r\n"
		 "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
		 "This is the mail gateway at %s.\r\n\r\n"
		 "Your message (queue id %s) could not be delivered to one or more\r\n"
		 "recipients. The reasons are below.\r\n\r\n",
		 ctx->hostname, e->from, date, d.id, ctx->hostname, d.id, ctx->hostname, d.id,
		 ctx->hostname, ctx->hostname, e->id);
	put(w, line);
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == MG_RCPT_FAILED) {
			snprintf(line, sizeof(line), "<%s>: %s\r\n", e->rcpt[i].addr, e->rcpt[i].error);
			put(w, line);
		}
	snprintf(line, sizeof(line),
		 "\r\n--%s/%s\r\nContent-Type: message/delivery-status\r\n\r\n"
		 "Reporting-MTA: dns; %s\r\nX-Mailgw-Queue-ID: %s\r\nArrival-Date: %s\r\n",
		 d.id, ctx->hostname, ctx->hostname, e->id, arr);
	put(w, line);
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == MG_RCPT_FAILED) {
			status_of(e->rcpt[i].error, st, sizeof(st));
			snprintf(line, sizeof(line),
				 "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n"
				 "Diagnostic-Code: smtp; %s\r\n",
				 e->rcpt[i].addr, st, e->rcpt[i].error);
			put(w, line);
		}
	snprintf(line, sizeof(line), "\r\n--%s/%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", d.id,
		 ctx->hostname);
	put(w, line);
	copy_headers(ctx, e, w);
	snprintf(line, sizeof(line), "\r\n--%s/%s--\r\n", d.id, ctx->hostname);
	put(w, line);
	d.created = (long long)now;
	d.size = w->bytes;
	d.bounce = 1;
	str_copy(d.client, "local", sizeof(d.client));
	str_copy(d.helo, ctx->hostname, sizeof(d.helo));
	if (mg_msg_writer_commit(w) < 0 || mg_env_save(ctx->conf.spool, &d) < 0) {
		mg_spool_remove(ctx->conf.spool, d.id);
		goto out;
	}
	log_info("dsn %s: bounce %s queued to <%s> for %zu recipients", e->id, d.id, e->from, nfailed);
	if (newid)
		str_copy(newid, d.id, idcap);
mark:
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == MG_RCPT_FAILED)
			e->rcpt[i].state = MG_RCPT_BOUNCED;
	rc = 0;
out:
	if (w) {
		mg_msg_writer_abort(w);
		free(w);
	}
	mg_env_free(&d);
	return rc;
}
