/* libFuzzer target: the viewer's message parsers (applets/viewer/vw_msg.c), the
 * sealed-frame opener and the group key block of APPROVE (vw_crypto.c) on arbitrary
 * bytes. The first byte picks which. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tframe.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t k[VW_KEY_LEN] = { 42 };
	static struct vw_key key;
	static uint8_t out[TFRAME_MAX_PAYLOAD];
	struct vw_msg m;
	const uint8_t *p, *c;
	size_t pl;
	int version;
	static struct vw_group g;

	if (size < 1)
		return 0;
	if (!key.set && vw_key_init(&key, 0, k) < 0)
		abort();
	switch (data[0] % 5) {
	case 0:
		if (vw_msg_parse(&m, data + 1, size - 1) == 0) {
			char store[8192], *argv[VW_MAX_ARGS + 1];
			uint8_t again[VW_MSG_MAX];
			ssize_t n = vw_msg_encode(&m, again, sizeof(again));
			if (n != (ssize_t)(size - 1) || memcmp(again, data + 1, size - 1) != 0)
				abort();
			int argc = vw_msg_args(&m, store, sizeof(store), argv, VW_MAX_ARGS + 1);
			if (argc > VW_MAX_ARGS || (argc >= 0 && argv[argc] != NULL))
				abort();
		}
		break;
	case 1:
		if (vw_hello_parse(data + 1, size - 1, &version, &c, &p, &pl) == 0 &&
		    (p + pl != data + size || c != data + 3))
			abort();
		break;
	case 2:
		if (vw_keymsg_parse(data + 1, size - 1, &c, &p, &pl) == 0 && p + pl != data + size)
			abort();
		break;
	case 3: {
		struct tframe_hdr h;
		struct vw_replay rp = { 0 };
		const struct vw_key *keys[1] = { &key };
		if (tframe_hdr_decode(data + 1, size - 1, TFRAME_MAX_PAYLOAD, &h) == 0 &&
		    size - 1 - TFRAME_HDR_LEN >= h.length && h.length > 0) {
			ssize_t n = vw_open_frame(keys, 1, &rp, &h, data + 1, data + 1 + TFRAME_HDR_LEN,
						  out, sizeof(out), NULL, NULL);
			if (n >= 0 && (vw_msg_parse(&m, out, (size_t)n), rp.last_seq != h.seq))
				abort();
		}
		break;
	}
	case 4: { /* APPROVE's group key block */
		ssize_t n = vw_group_decode(&g, data + 1, size - 1);
		if (n > (ssize_t)(size - 1) || (n >= 0 && (g.n < 1 || g.n > VW_GROUP_KEEP)))
			abort();
		vw_group_clear(&g);
		break;
	}
	}
	return 0;
}
