/* mg_smtp_data.c - the DATA phase, line by line (RFC 5321 4.5.2 transparency,
 * 4.5.3.1.6 line length). End of data is recognised only as <CRLF>.<CRLF>: a "."
 * line after or before a bare LF is content, which is what keeps SMTP smuggling
 * (a second message hidden behind "\n.\n" that a downstream server would split off)
 * out of the queue. Bare LF/CR are either refused or normalised to CRLF (policy). */
#include <string.h>

#include "applets/mailgw/mg_smtp.h"
#include "core/buf.h"

void mg_data_init(struct mg_data_rx *d, long long max_size, enum mg_bare_lf policy)
{
	memset(d, 0, sizeof(*d));
	d->max_size = max_size;
	d->bare_lf = policy;
	d->prev_crlf = 1;
}

int mg_data_line(struct mg_data_rx *d, const char *line, size_t len, int had_cr,
		 const char **out, size_t *outlen)
{
	int prev = d->prev_crlf;

	*out = NULL;
	*outlen = 0;
	d->prev_crlf = had_cr;
	if (prev && had_cr && len == 1 && line[0] == '.')
		return 1;
	/* A CR inside a line is refused under either policy: it cannot be normalised
	 * without guessing, and stored it would reach the next hop as a bare CR. */
	if (memchr(line, '\r', len) || (!had_cr && d->bare_lf == MG_BARE_LF_REJECT))
		d->bad_eol = 1;
	/* RFC 5321 2.3.8 / 4.1.1.4: NUL is not text. Stored, it would truncate the
	 * message at the next hop or in a C mail store, so the message is refused. */
	if (memchr(line, '\0', len))
		d->nul = 1;
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	if (len > MG_TEXT_LINE_MAX)
		d->long_line = 1;
	if (d->max_size > 0 && d->size + (long long)len + 2 > d->max_size)
		d->too_big = 1;
	if (d->too_big || d->long_line || d->bad_eol || d->nul)
		return 0;   /* keep reading to the end, store nothing more */
	d->size += (long long)len + 2;
	*out = line;
	*outlen = len;
	return 0;
}

int mg_data_verdict(const struct mg_data_rx *d, const char **enh, const char **text)
{
	if (d->too_big) {
		*enh = "5.3.4";
		*text = "Message size exceeds fixed limit";
		return 552;
	}
	if (d->nul) {
		*enh = "5.6.0";
		*text = "NUL character in message not allowed";
		return 554;
	}
	if (d->bad_eol) {
		*enh = "5.6.0";
		*text = "Bare LF or CR in message, use CRLF line endings";
		return 554;
	}
	if (d->long_line) {
		*enh = "5.6.0";
		*text = "Message line longer than 998 octets";
		return 554;
	}
	return 0;
}

int mg_data_stuff_line(struct buf_writer *w, const char *line, size_t len)
{
	if (len > 0 && line[0] == '.')
		buf_put_u8(w, '.');
	buf_put_bytes(w, line, len);
	buf_put_bytes(w, "\r\n", 2);
	return w->err ? -1 : 0;
}
