/* mg_smtp_reply.c - reply lines (RFC 5321 4.2, RFC 2034 enhanced status codes). Text
 * that came from a peer (a downstream server's error, a HELO name) passes through
 * mg_sanitize first, so it can never add a line or a fake reply. */
#include <stdio.h>
#include <string.h>

#include "applets/mailgw/mg_smtp.h"
#include "core/buf.h"
#include "core/str.h"

void mg_sanitize(char *out, size_t cap, const char *text, size_t len)
{
	str_printable(out, cap, text, len);
}

static int one_line(struct buf_writer *w, int code, char sep, const char *enh, const char *text)
{
	char head[32], clean[512];

	if (code < 200 || code > 599)
		code = 451;
	snprintf(head, sizeof(head), "%d%c", code, sep);
	buf_put_str(w, head);
	if (enh) {
		buf_put_str(w, enh);
		buf_put_u8(w, ' ');
	}
	mg_sanitize(clean, sizeof(clean), text, strlen(text));
	buf_put_str(w, clean);
	return buf_put_bytes(w, "\r\n", 2);
}

int mg_reply(struct buf_writer *w, int code, const char *enh, const char *text)
{
	one_line(w, code, ' ', enh, text);
	return w->err ? -1 : 0;
}

int mg_reply_lines(struct buf_writer *w, int code, const char *enh, const char *const *lines,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		one_line(w, code, i + 1 < n ? '-' : ' ', enh, lines[i]);
	return w->err ? -1 : 0;
}

int mg_reply_line(struct mg_reply_rx *r, const char *line, size_t len, const char **text,
		  size_t *textlen)
{
	*text = "";
	*textlen = 0;
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return MG_REPLY_BAD;
	r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	r->bytes += len + 2;
	if (++r->nlines > MG_REPLY_MAX_LINES || r->bytes > MG_REPLY_MAX_BYTES)
		return MG_REPLY_TOO_LONG;
	if (len > 4) {
		*text = line + 4;
		*textlen = len - 4;
	}
	return len > 3 && line[3] == '-' ? MG_REPLY_MORE : MG_REPLY_DONE;
}
