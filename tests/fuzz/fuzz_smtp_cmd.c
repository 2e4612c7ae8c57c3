/* libFuzzer target: SMTP command lines and the DATA line state machine (mailgw). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_smtp.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_smtp_cmd cmd;
	struct mg_data_rx d;
	uint8_t mem[2048];
	struct buf_writer w;
	const char *s = (const char *)data, *end = s + size;

	/* Each line as a command, and the whole input as a DATA phase. */
	mg_data_init(&d, 4096, size && (data[0] & 1) ? MG_BARE_LF_NORMALIZE : MG_BARE_LF_REJECT);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		int cr = len > 0 && s[len - 1] == '\r';
		size_t l = cr ? len - 1 : len;
		if (mg_smtp_parse(s, l, &cmd) == 0) {
			buf_writer_fixed(&w, mem, sizeof(mem));
			mg_reply(&w, 250, "2.0.0", cmd.arg);
			if (cmd.verb == MG_CMD_MAIL || cmd.verb == MG_CMD_RCPT) {
				if (mg_addr_valid(cmd.addr) != 0)
					__builtin_trap();   /* the parser let an invalid mailbox through */
				(void)mg_addr_domain(cmd.addr);
			}
		} else if (!cmd.err_text || cmd.err_code < 500) {
			__builtin_trap();
		}
		const char *out;
		size_t ol;
		if (mg_data_line(&d, s, l, cr, &out, &ol) == 0 && out) {
			if (memchr(out, '\r', ol))
				__builtin_trap();   /* a stored line never holds a CR */
			buf_writer_fixed(&w, mem, sizeof(mem));
			mg_data_stuff_line(&w, out, ol);
		}
		s = nl ? nl + 1 : end;
	}
	const char *enh, *txt;
	(void)mg_data_verdict(&d, &enh, &txt);
	return 0;
}
