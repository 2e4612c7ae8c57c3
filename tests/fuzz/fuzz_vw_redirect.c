/* libFuzzer target: the viewer's parser of the relay's REDIRECT (applets/viewer/
 * vw_redirect.c) and of the relay list (vw_servers.c) on arbitrary bytes. The first
 * byte picks which. A parsed redirect must hold only checked values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/viewer/vw_redirect.h"
#include "applets/viewer/vw_servers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vw_redirect r;
	static struct vw_servers s;
	static char text[8192];
	char why[400];

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (vw_redirect_parse(data + 1, size - 1, &r, why, sizeof(why)) == 0 &&
		    (!r.relay[0] || strlen(r.relay) > 32 || (!r.tcp[0] && !r.https[0] && !r.http[0])))
			abort();
		return 0;
	}
	if (size - 1 >= sizeof(text))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (vw_servers_parse(text, &s, why, sizeof(why)) == 0 && (s.n < 1 || s.n > VW_SERVERS_MAX))
		abort();
	return 0;
}
