/* libFuzzer target: mailgw's LDAP response reader (mg_ldap_ber.h) with what a hostile or
 * broken LDAP server sends: a stream of messages framed and decoded one after the other,
 * as mg_auth_ldap.c reads them. Also the escaping promise: any value escaped into
 * "(uid=...)" parses back to one equality match of exactly that value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_ldap_ber.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_ldap_msg m;
	const char *why;
	size_t off = 0;

	for (int k = 0; k < 64 && off < size; k++) {
		size_t left = size - off, hn = left < 8 ? left : 8;
		long total = mg_ldap_frame(data + off, hn, MG_LDAP_MSG_MAX);
		if (total < 0 || total == 0)
			break;
		if (total > MG_LDAP_MSG_MAX)
			__builtin_trap();
		if ((size_t)total > left)
			break;
		if (mg_ldap_decode(data + off, (size_t)total, &m, &why) == 0) {
			if (strlen(m.dn) > MG_LDAP_DN_MAX || strlen(m.diag) >= sizeof(m.diag))
				__builtin_trap();
			for (const char *p = m.diag; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					__builtin_trap();   /* made printable: safe to log */
		} else if (!why || !*why) {
			__builtin_trap();
		}
		off += (size_t)total;
	}

	/* the value: the first 256 bytes */
	char esc[3 * 256 + 1], text[sizeof(esc) + 16];
	size_t vl = size < 256 ? size : 256;
	if (mg_ldap_escape(esc, sizeof(esc), (const char *)data, vl) < 0)
		__builtin_trap();
	strcpy(text, "(uid=");
	strcat(text, esc);
	strcat(text, ")");
	uint8_t mem[MG_LDAP_FILTER_MAX];
	struct buf_writer w;
	buf_writer_fixed(&w, mem, sizeof(mem));
	if (mg_ldap_filter_ber(&w, text, &why) < 0)
		__builtin_trap();
	/* a3 L 04 03 "uid" 04 L' value, minimal lengths: 04 L' is 2 bytes below 128, else 3
	 * (vl <= 256); a3 L is 2, 3 or 4 bytes */
	size_t vo = 5 + (vl < 128 ? 2 : vl < 256 ? 3 : 4), content = vo + vl;
	size_t hdr = content < 128 ? 2 : content < 256 ? 3 : 4;
	if (w.len != hdr + content || w.p[0] != 0xa3 || memcmp(w.p + hdr, "\x04\x03uid\x04", 6) != 0 ||
	    memcmp(w.p + hdr + vo, data, vl) != 0)
		__builtin_trap();
	return 0;
}
