/* musl-glibc-ctype.c - used only by mk/musl-libs.sh when Debian's libinih source package
 * cannot be fetched: Debian's binary libinih.a (built against glibc) is then linked into
 * the musl binary, and its isspace() is glibc's macro reading __ctype_b_loc(), which musl
 * does not have. This provides that one glibc ABI symbol from musl's own classification:
 * a table of glibc's class bits for -128..255, indexed from the middle. */
#include <ctype.h>

enum { // glibc's bit layout on little-endian machines (<ctype.h>, _ISbit)
	G_UPPER = 1 << 8, G_LOWER = 1 << 9, G_ALPHA = 1 << 10, G_DIGIT = 1 << 11,
	G_XDIGIT = 1 << 12, G_SPACE = 1 << 13, G_PRINT = 1 << 14, G_GRAPH = 1 << 15,
	G_BLANK = 1 << 0, G_CNTRL = 1 << 1, G_PUNCT = 1 << 2, G_ALNUM = 1 << 3,
};
static unsigned short table[384];
static const unsigned short *mid = table + 128;

__attribute__((constructor)) static void fill(void)
{
	for (int c = 0; c < 256; c++) {
		unsigned short v = 0;
		v |= isupper(c) ? G_UPPER : 0; v |= islower(c) ? G_LOWER : 0;
		v |= isalpha(c) ? G_ALPHA : 0; v |= isdigit(c) ? G_DIGIT : 0;
		v |= isxdigit(c) ? G_XDIGIT : 0; v |= isspace(c) ? G_SPACE : 0;
		v |= isprint(c) ? G_PRINT : 0; v |= isgraph(c) ? G_GRAPH : 0;
		v |= isblank(c) ? G_BLANK : 0; v |= iscntrl(c) ? G_CNTRL : 0;
		v |= ispunct(c) ? G_PUNCT : 0; v |= isalnum(c) ? G_ALNUM : 0;
		table[128 + c] = v;
	}
}

const unsigned short **__ctype_b_loc(void);
const unsigned short **__ctype_b_loc(void)
{
	return &mid;
}
