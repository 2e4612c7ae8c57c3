/* tun_cluster_reserve.c - the optional local range ([cluster] local_range = LO-HI): numbers
 * this relay reserves in Redis for itself, so that it can still open sessions while Redis is
 * unreachable without any chance of a collision.
 *
 * Each number of the range is burned in Redis as "ID+r" (reserved by relay ID, unused) the
 * first time the relay reaches Redis; no other relay can then burn it (SET NX fails), so only
 * this relay may ever issue it. It issues them only while Redis is down, records each in
 * state_dir/issued first as always, and once Redis is back marks each one used ("ID") and
 * writes the session's record. A number some other relay burned before the claim is simply
 * not part of this relay's reserve. What is left unused stays reserved across restarts; a
 * number issued during an outage is known only to state_dir/issued until Redis is back. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "net/redis.h"
#include "tun_cluster.h"
#include "tun_relay.h"

static const char claim_lua[] =
	"local mine = {} "
	"for n = tonumber(ARGV[3]), tonumber(ARGV[4]) do "
	"  local k = ARGV[1] .. n "
	"  if redis.call('SET', k, ARGV[2], 'NX') then redis.call('INCR', KEYS[1]) table.insert(mine, n) "
	"  elseif redis.call('GET', k) == ARGV[2] then table.insert(mine, n) end "
	"end "
	"return mine";

int tc_range_parse(const char *s, unsigned digits, uint32_t *lo, uint32_t *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;
	if (end == s || *end != '-')
		return -1;
	const char *t = end + 1;
	b = strtoul(t, &end, 10);
	if (end == t || *end)
		return -1;
	unsigned long min = 1, max;
	for (unsigned i = 1; i < digits; i++)
		min *= 10;
	max = min * 10 - 1;
	if (a < min || b > max || a > b || b - a + 1 > TC_RESERVE_MAX)
		return -1;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

static struct tc_reserved *find(struct tun_cluster *cl, uint32_t num)
{
	for (size_t i = 0; i < cl->nres; i++)
		if (cl->res[i].num == num)
			return &cl->res[i];
	return NULL;
}

static void claim_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct tun_cluster *cl = arg;
	struct tun_relay *r = cl->r;
	if (!rep || n != 1 || rep[0].type != RESP_ARRAY) {
		log_warn("fleet: could not reserve local_range in Redis%s%.200s", rep && n == 1 && rep[0].type == RESP_ERROR
			 ? ": " : "", rep && n == 1 && rep[0].type == RESP_ERROR ? rep[0].s : "");
		return;
	}
	size_t fresh = 0;
	for (size_t i = 0; i < rep[0].n && cl->nres < TC_RESERVE_MAX; i++) {
		const struct resp_reply *e = &rep[0].el[i];
		if (e->type != RESP_INT || e->i < r->numbers.lo || e->i > r->numbers.hi || find(cl, (uint32_t)e->i))
			continue;
		uint32_t num = (uint32_t)e->i;
		/* in state_dir/issued already: issued in an outage that Redis never heard of */
		cl->res[cl->nres].num = num;
		cl->res[cl->nres].used = (uint8_t)tun_numbers_is_issued(&r->numbers, num);
		if (cl->res[cl->nres].used)
			tc_reserve_mark_used(cl, num);
		tun_numbers_mark(&r->numbers, num); /* never picked on the fleet path */
		cl->nres++;
		fresh++;
	}
	size_t unused = 0;
	for (size_t i = 0; i < cl->nres; i++)
		unused += !cl->res[i].used;
	log_info("fleet: local_range reserved: %zu numbers (%zu unused) for when Redis is unreachable", cl->nres, unused);
}

void tc_reserve_claim(struct tun_cluster *cl)
{
	struct tun_relay *r = cl->r;
	const struct tun_conf *c = r->conf;
	if (!c->cl_local_range)
		return;
	uint32_t lo, hi;
	if (tc_range_parse(c->cl_local_range, r->numbers.digits, &lo, &hi) < 0)
		return; /* tun_cluster_conf_check refused it already */
	if (!cl->res && !(cl->res = calloc(TC_RESERVE_MAX, sizeof(*cl->res))))
		return;
	char k1[128], pfx[128], val[TC_ID_MAX + 3], a[16], b[16];
	str_fmt(k1, sizeof(k1), "%s:c%u", cl->kp, r->numbers.digits);
	str_fmt(pfx, sizeof(pfx), "%s:n%u:", cl->kp, r->numbers.digits);
	str_fmt(val, sizeof(val), "%s+r", c->cl_relay_id);
	str_fmt(a, sizeof(a), "%u", (unsigned)lo);
	str_fmt(b, sizeof(b), "%u", (unsigned)hi);
	const char *argv[] = { "EVAL", claim_lua, "1", k1, pfx, val, a, b };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, 8, argv);
	net_redis_submit(cl->rd, q, claim_cb, cl);
}

void tc_reserve_mark_used(struct tun_cluster *cl, uint32_t num)
{
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_addf(q, "SET %s:n%u:%u %s XX", cl->kp, cl->r->numbers.digits, (unsigned)num, cl->r->conf->cl_relay_id);
	if (net_redis_submit(cl->rd, q, tc_noop_cb, NULL) < 0)
		cl->res_pending = 1; /* again when Redis is back */
}

/* Redis is back: the reserved numbers issued while it was away are marked used there. */
void tc_reserve_flush(struct tun_cluster *cl)
{
	if (!cl->res_pending)
		return;
	cl->res_pending = 0;
	for (size_t i = 0; i < cl->nres; i++)
		if (cl->res[i].used == 2) {
			cl->res[i].used = 1;
			tc_reserve_mark_used(cl, cl->res[i].num);
		}
}

int tc_reserve_issue(struct tun_cluster *cl, uint32_t *out)
{
	size_t unused = 0, k;
	uint32_t pick;
	for (size_t i = 0; i < cl->nres; i++)
		unused += !cl->res[i].used;
	if (unused == 0 || cry_random_range(0, (uint32_t)unused - 1, &pick) < 0)
		return -1;
	for (k = 0; k < cl->nres; k++)
		if (!cl->res[k].used && pick-- == 0)
			break;
	if (tun_numbers_record(&cl->r->numbers, cl->res[k].num) < 0)
		return -1; /* not recorded: not handed out */
	cl->res[k].used = 2; /* used, Redis not told yet */
	cl->res_pending = 1;
	*out = cl->res[k].num;
	if (unused - 1 == 0)
		log_warn("fleet: the last number of local_range is issued; new sessions are refused until Redis is back");
	return 0;
}
