/* mg_runner.c - the queue runner: keeps the queue index, starts deliveries within the
 * concurrency limits (per next hop and overall), applies back-off, expires messages
 * after max_queue_lifetime, queues DSNs, holds mail for ETRN domains until released,
 * and executes the operator's requests from SPOOL/ctl/ (flush, delete).
 *
 * One delivery per message at a time: a message with recipients in several domains
 * is delivered domain by domain, each finished delivery triggers the next scan.
 * Next hop: smarthost_map, smarthost, else the domain's MX hosts in preference order
 * (net_resolve_mx, asynchronous), else the domain itself (RFC 5321 5.1 implicit MX),
 * on smtp_port; host names are resolved by net_connect's asynchronous resolver.
 *
 * The queue index: every envelope not in a delivery is held in memory (loaded once
 * from env/ at start-up, then added on accept and for each DSN, updated when a
 * delivery ends, dropped on removal). A scan walks the index, never the spool, so a
 * finished delivery costs no file reads however long the queue is (a rescan of env/
 * per delivery made the relay rate fall as the backlog grew). The daemon is the only
 * writer of env/ while it runs (operator requests come through ctl/), so the index
 * and the files agree; the files stay the durable truth, read by `mailgw queue`. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "applets/mailgw/mg_connpool.h"
#include "applets/mailgw/mg_deliver.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/mx.h"

struct job {
	struct mg_runner *r;
	struct job *next;
	struct mg_env env;
	struct mg_delivery d;
	int delete_after;
	struct net_mx_req *mx;   /* MX lookup under way */
};

/* An envelope waiting in the queue (not in a delivery). */
struct qent {
	struct qent *next;
	struct mg_env env;
};

struct mg_runner {
	struct mg_ctx *ctx;
	struct qent *q, **qtail;    /* the queue index, oldest first */
	size_t nq;
	struct net_timer *tick;     /* periodic scan */
	struct net_timer *soon;     /* coalesced "scan now" */
	struct job *jobs;
	size_t njobs;
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

static struct job *find_job(struct mg_runner *r, const char *id)
{
	for (struct job *j = r->jobs; j; j = j->next)
		if (strcmp(j->env.id, id) == 0)
			return j;
	return NULL;
}

static void q_append(struct mg_runner *r, struct qent *q)
{
	q->next = NULL;
	*r->qtail = q;
	r->qtail = &q->next;
	r->nq++;
}

/* Unlinks *pp (pp points at the link to it) and returns it. */
static struct qent *q_unlink(struct mg_runner *r, struct qent **pp)
{
	struct qent *q = *pp;
	*pp = q->next;
	if (r->qtail == &q->next)
		r->qtail = pp;
	r->nq--;
	q->next = NULL;
	return q;
}

static void q_free(struct qent *q)
{
	mg_env_free(&q->env);
	free(q);
}

/* Takes over e (its recipient array) into the index. */
static int q_add_env(struct mg_runner *r, struct mg_env *e)
{
	struct qent *q = calloc(1, sizeof(*q));
	if (!q)
		return -1;
	q->env = *e;
	mg_env_init(e);
	q_append(r, q);
	return 0;
}

/* Reads env/ID (just committed by us) into the index. */
static void q_add_id(struct mg_runner *r, const char *id)
{
	struct mg_env e;
	if (mg_env_load(r->ctx->conf.spool, id, &e) < 0) {
		log_warn("queue %s: unreadable envelope, skipped", id);
		return;
	}
	if (q_add_env(r, &e) < 0) {
		log_err("queue %s: out of memory for the queue index", id);
		mg_env_free(&e);
	}
}

static struct qent **q_find(struct mg_runner *r, const char *id)
{
	for (struct qent **pp = &r->q; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->env.id, id) == 0)
			return pp;
	return NULL;
}

static size_t dest_active(struct mg_runner *r, const char *dest)
{
	size_t n = 0;
	for (struct job *j = r->jobs; j; j = j->next)
		if (strcmp(j->d.dest, dest) == 0)
			n++;
	return n;
}

/* Returns 1 when the next hop comes from an MX lookup of domain (host = domain). */
static int nexthop(struct mg_ctx *ctx, const char *domain, char *host, size_t hcap, int *port)
{
	char hp[300];

	mg_conf_nexthop(&ctx->conf, domain, hp, sizeof(hp));
	*port = (int)ctx->conf.smtp_port;
	if (!hp[0]) {
		/* address literal: deliver to that IP */
		size_t dl = strlen(domain);
		if (domain[0] == '[' && dl > 2) {
			const char *ip = strncmp(domain + 1, "IPv6:", 5) == 0 ? domain + 6 : domain + 1;
			size_t n = (size_t)(domain + dl - 1 - ip);
			if (n < hcap) {
				memcpy(host, ip, n);
				host[n] = '\0';
				return 0;
			}
		}
		str_copy(host, domain, hcap);
		return ctx->conf.dns ? 1 : 0;
	}
	*port = 25;
	if (net_split_hostport(hp, host, hcap, port, 25) < 0)
		str_copy(host, hp, hcap);
	return 0;
}

static long backoff(const struct mg_ctx *ctx, long attempts)
{
	long long d = ctx->conf.retry_min;
	for (long i = 1; i < attempts && d < ctx->conf.retry_max; i++)
		d *= 2;
	return d > ctx->conf.retry_max ? ctx->conf.retry_max : (long)d;
}

static void scan_soon(struct mg_runner *r)
{
	if (r->soon)
		net_timer_arm(r->soon, 0);
}

/* Expired messages, DSNs, removal of finished ones. Returns 1 if e was removed. */
static int housekeeping(struct mg_runner *r, struct mg_env *e)
{
	struct mg_ctx *ctx = r->ctx;
	int changed = 0;
	long long now = now_s();

	if (e->created + ctx->conf.max_queue_lifetime <= now) {
		for (size_t i = 0; i < e->nrcpt; i++)
			if (e->rcpt[i].state == MG_RCPT_PENDING) {
				char t[600];
				snprintf(t, sizeof(t), "4.4.7 expired after %lds in the queue; last error: %s",
					 ctx->conf.max_queue_lifetime, e->rcpt[i].error[0] ? e->rcpt[i].error : "none");
				str_copy(e->rcpt[i].error, t, sizeof(e->rcpt[i].error));
				e->rcpt[i].state = MG_RCPT_FAILED;
				changed = 1;
				log_info("queue %s: to=<%s> expired", e->id, e->rcpt[i].addr);
			}
	}
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == MG_RCPT_FAILED) {
			char nid[MG_ID_MAX + 1] = "";
			if (mg_dsn_queue(ctx, e, nid, sizeof(nid)) == 0) {
				changed = 1;
				if (nid[0]) {
					q_add_id(r, nid);
					scan_soon(r);
				}
			}
			break;
		}
	if (mg_env_done(e)) {
		mg_spool_remove(ctx->conf.spool, e->id);
		log_info("queue %s: removed (all recipients done)", e->id);
		return 1;
	}
	if (changed && mg_env_save(ctx->conf.spool, e) < 0)
		log_err("queue %s: cannot save the envelope", e->id);
	return 0;
}

static void job_done(struct mg_delivery *d)
{
	struct job *j = d->arg;
	struct mg_runner *r = j->r;
	struct mg_ctx *ctx = r->ctx;
	long long now = now_s();

	for (size_t i = 0; i < d->n; i++) {
		struct mg_rcpt *rc = &j->env.rcpt[d->idx[i]];
		if (rc->state == MG_RCPT_PENDING) {
			rc->attempts++;
			rc->next_try = now + backoff(ctx, rc->attempts);
			log_info("deliver %s: to=<%s> relay=%s status=deferred (%s) tls=%s retry in %llds",
				 j->env.id, rc->addr, d->dest, rc->error, d->tls, rc->next_try - now);
		}
	}
	/* unlink from the active list */
	for (struct job **pp = &r->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	r->njobs--;
	if (d->removed) {
		log_info("queue %s: removed (all recipients done)", j->env.id);
	} else if (j->delete_after) {
		mg_spool_remove(ctx->conf.spool, j->env.id);
		log_info("queue %s: deleted by the operator", j->env.id);
	} else if (!housekeeping(r, &j->env)) {
		if (mg_env_save(ctx->conf.spool, &j->env) < 0)
			log_err("queue %s: cannot save the envelope", j->env.id);
		/* back into the index (at the end: the others waiting get their turn) */
		if (!ctx->stopping && q_add_env(r, &j->env) < 0)
			log_err("queue %s: out of memory for the queue index", j->env.id);
	}
	mg_env_free(&j->env);
	free(d->idx);
	free(j);
	if (!ctx->stopping)
		scan_soon(r);
}

/* The MX answer decides the next hops, or fails/defers the recipients. */
static void mx_done(enum net_mx_status st, const struct net_mx *mx, size_t n, void *arg)
{
	struct job *j = arg;
	struct mg_delivery *d = &j->d;
	char why[400] = "";
	int perm = 0;

	j->mx = NULL;
	if (st == NET_MX_NXDOMAIN) {
		snprintf(why, sizeof(why), "550 5.1.2 domain %s does not exist (DNS NXDOMAIN)", d->domain);
		perm = 1;
	} else if (st != NET_MX_OK) {
		snprintf(why, sizeof(why), "4.4.3 MX lookup for %s failed (DNS timeout or server failure)", d->domain);
	} else if (n == 1 && mx[0].host[0] == '\0') {
		snprintf(why, sizeof(why), "556 5.1.10 domain %s accepts no mail (null MX)", d->domain);
		perm = 1;
	} else if (n > 0) {
		d->nhops = 0;
		for (size_t i = 0; i < n && d->nhops < MG_HOPS_MAX; i++)
			if (mx[i].host[0])
				str_copy(d->hops[d->nhops++], mx[i].host, sizeof(d->hops[0]));
		log_debug("deliver %s: %zu MX for %s, first %s", j->env.id, n, d->domain, d->hops[0]);
	} /* n == 0: no MX, the domain itself (hops[0]) is the implicit MX */
	if (!why[0] && mg_deliver_start(d) == 0)
		return;
	if (!why[0])
		str_copy(why, d->error, sizeof(why));
	for (size_t i = 0; i < d->n; i++) {
		struct mg_rcpt *rc = &j->env.rcpt[d->idx[i]];
		str_copy(rc->error, why, sizeof(rc->error));
		if (perm)
			rc->state = MG_RCPT_FAILED;
	}
	log_info("deliver %s: %s", j->env.id, why);
	job_done(d);
}

/* ETRN-held recipients wait for their release; released or hurried ones are due at
 * once, the rest when their back-off is over. */
static int domain_due(const struct mg_runner *r, const struct mg_rcpt *rc, long long now)
{
	if (rc->state != MG_RCPT_PENDING)
		return 0;
	if (rc->release != MG_REL_ETRN && mg_conf_is_etrn_domain(&r->ctx->conf, mg_addr_domain(rc->addr)))
		return 0;   /* held until ETRN / flush DOMAIN */
	return rc->release != MG_REL_NONE || rc->next_try <= now;
}

/* Marks the pending recipients of e in domain (NULL: all) with how, except those in
 * the delivery under way (busy, may be NULL). Returns 1 when e has a pending
 * recipient there (marked now or being delivered). */
static int mark(struct mg_env *e, const char *domain, enum mg_release how, const struct mg_delivery *busy)
{
	int any = 0;

	for (size_t i = 0; i < e->nrcpt; i++) {
		struct mg_rcpt *rc = &e->rcpt[i];
		int in_busy = 0;
		if (rc->state != MG_RCPT_PENDING || (domain && strcasecmp(mg_addr_domain(rc->addr), domain) != 0))
			continue;
		any = 1;
		for (size_t k = 0; busy && k < busy->n; k++)
			in_busy |= busy->idx[k] == i;
		if (!in_busy && rc->release < how)
			rc->release = how;
	}
	return any;
}

/* ETRN, flush, flush DOMAIN: every message queued for domain (NULL: all) now is
 * released (or hurried); the scans start them as the concurrency limits allow, one
 * after the other, since each finished delivery triggers the next scan. Returns the
 * number of messages concerned. */
static int release(struct mg_runner *r, const char *domain, enum mg_release how)
{
	int n = 0;

	for (struct qent *q = r->q; q; q = q->next)
		n += mark(&q->env, domain, how, NULL);
	for (struct job *j = r->jobs; j; j = j->next)
		n += mark(&j->env, domain, how, &j->d);
	return n;
}

/* Starts a delivery for env (taken over on success). Returns 1 started, 0 nothing to
 * do now, -1 error. */
static int try_start(struct mg_runner *r, struct mg_env *e)
{
	struct mg_ctx *ctx = r->ctx;
	long long now = now_s();

	for (size_t i = 0; i < e->nrcpt; i++) {
		if (!domain_due(r, &e->rcpt[i], now))
			continue;
		const char *dom = mg_addr_domain(e->rcpt[i].addr);
		char host[256], dest[300];
		int port;
		int use_mx = nexthop(ctx, dom, host, sizeof(host), &port);
		if (use_mx)
			snprintf(dest, sizeof(dest), "mx:%s", dom);
		else
			net_join_hostport(dest, sizeof(dest), host, port);
		if (dest_active(r, dest) >= (size_t)ctx->conf.concurrency_per_destination)
			continue;
		if (r->njobs >= (size_t)ctx->conf.concurrency_total)
			return 0;
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			return -1;
		j->r = r;
		j->env = *e;   /* takes over the recipient array */
		j->d.ctx = ctx;
		j->d.env = &j->env;
		j->d.idx = calloc(e->nrcpt, sizeof(size_t));
		if (!j->d.idx) {
			free(j);
			return -1;
		}
		for (size_t k = i; k < e->nrcpt; k++)
			if (strcasecmp(mg_addr_domain(e->rcpt[k].addr), dom) == 0 &&
			    domain_due(r, &e->rcpt[k], now)) {
				j->d.idx[j->d.n++] = k;
				e->rcpt[k].release = MG_REL_NONE;   /* this attempt is the release */
			}
		str_copy(j->d.domain, dom, sizeof(j->d.domain));
		str_copy(j->d.hops[0], host, sizeof(j->d.hops[0]));
		j->d.nhops = 1;
		j->d.port = port;
		str_copy(j->d.dest, dest, sizeof(j->d.dest));
		j->d.done = job_done;
		j->d.arg = j;
		if (use_mx) {
			j->mx = net_resolve_mx(ctx->loop, dom, ctx->conf.dns_server,
					       (unsigned long)ctx->conf.connect_timeout * 1000, mx_done, j);
			if (!j->mx)
				str_copy(j->d.error, "cannot send the MX query", sizeof(j->d.error));
		}
		if ((use_mx && !j->mx) || (!use_mx && mg_deliver_start(&j->d) < 0)) {
			log_warn("deliver %s: %s", e->id, j->d.error);
			for (size_t k = 0; k < j->d.n; k++) {
				struct mg_rcpt *rc = &e->rcpt[j->d.idx[k]];
				rc->attempts++;
				rc->next_try = now + backoff(ctx, rc->attempts);
				str_copy(rc->error, j->d.error, sizeof(rc->error));
			}
			mg_env_save(ctx->conf.spool, e);
			free(j->d.idx);
			free(j);
			return 0;
		}
		j->next = r->jobs;
		r->jobs = j;
		r->njobs++;
		e->rcpt = NULL;   /* now owned by the job */
		e->nrcpt = 0;
		log_debug("deliver %s: %zu recipients for %s via %s", j->env.id, j->d.n, dom, dest);
		return 1;
	}
	return 0;
}

/* Returns how many deliveries started. Walks the in-memory index only: no file is
 * read here. */
static int scan(struct mg_runner *r)
{
	struct mg_ctx *ctx = r->ctx;
	int started = 0;

	if (ctx->stopping)
		return 0;
	for (struct qent **pp = &r->q; *pp;) {
		struct qent *q = *pp;
		/* Nothing can start once the total limit is reached: stop there instead of
		 * walking the rest of a long queue (released messages stay marked and go
		 * with the scans that follow each finished delivery; expiry waits for a
		 * scan with room, at the latest the periodic one after the load). */
		if (r->njobs >= (size_t)ctx->conf.concurrency_total)
			break;
		if (housekeeping(r, &q->env)) {
			q_free(q_unlink(r, pp));
			continue;
		}
		if (try_start(r, &q->env) == 1) {
			q_free(q_unlink(r, pp));   /* the job owns the envelope now */
			started++;
			continue;
		}
		pp = &q->next;
	}
	return started;
}

/* Start-up: the index from env/ (the only time the runner lists the spool). */
static void load_index(struct mg_runner *r)
{
	char **ids;
	size_t n;

	if (mg_spool_ids(r->ctx->conf.spool, &ids, &n) < 0) {
		log_err("queue: cannot read %s/env: %s", r->ctx->conf.spool, strerror(errno));
		return;
	}
	for (size_t i = 0; i < n; i++)
		q_add_id(r, ids[i]);
	mg_spool_ids_free(ids, n);
	log_info("queue: %zu messages in the spool", r->nq);
}

static void tick_cb(void *arg)
{
	struct mg_runner *r = arg;
	mg_runner_control(r->ctx);
	scan(r);
}

static void soon_cb(void *arg)
{
	struct mg_runner *r = arg;
	scan(r);
}

int mg_runner_start(struct mg_ctx *ctx)
{
	struct mg_runner *r = calloc(1, sizeof(*r));
	char ctl[600];

	if (!r)
		return -1;
	r->ctx = ctx;
	r->qtail = &r->q;
	if (str_fmt(ctl, sizeof(ctl), "%s/ctl", ctx->conf.spool) < 0 || fs_mkdir_p(ctl, 0700) < 0 ||
	    !(r->tick = net_timer_new(ctx->loop, tick_cb, r)) ||
	    !(r->soon = net_timer_new(ctx->loop, soon_cb, r))) {
		if (r->tick)
			net_timer_free(r->tick);
		free(r);
		return -1;
	}
	ctx->runner = r;
	load_index(r);
	net_timer_every(r->tick, (unsigned long)ctx->conf.queue_scan_interval * 1000);
	net_timer_arm(r->soon, 0);
	return 0;
}

void mg_runner_stop(struct mg_ctx *ctx)
{
	struct mg_runner *r = ctx->runner;
	if (!r)
		return;
	/* Deliveries in flight are abandoned: their recipients are still PENDING on disk
	 * and are retried after the restart. */
	while (r->jobs) {
		struct job *j = r->jobs;
		r->jobs = j->next;
		if (j->mx)
			net_mx_cancel(j->mx);
		else
			mg_deliver_cancel(&j->d);
		mg_env_free(&j->env);
		free(j->d.idx);
		free(j);
	}
	while (r->q)
		q_free(q_unlink(r, &r->q));
	mg_pool_clear(ctx);
	net_timer_free(r->tick);
	net_timer_free(r->soon);
	free(r);
	ctx->runner = NULL;
}

void mg_runner_queued(struct mg_ctx *ctx, const char *id)
{
	if (!ctx->runner)
		return;
	q_add_id(ctx->runner, id);
	scan_soon(ctx->runner);
}

int mg_runner_etrn(struct mg_ctx *ctx, const char *domain)
{
	int n;

	if (!ctx->runner)
		return -1;
	n = release(ctx->runner, domain, MG_REL_ETRN);
	scan(ctx->runner);
	return n;
}

void mg_runner_control(struct mg_ctx *ctx)
{
	struct mg_runner *r = ctx->runner;
	char dir[600], p[900];
	DIR *d;
	struct dirent *de;

	if (!r || str_fmt(dir, sizeof(dir), "%s/ctl", ctx->conf.spool) < 0 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.' || strstr(n, ".tmp."))
			continue;
		if (fs_path_join(p, sizeof(p), dir, n) < 0)
			continue;
		if (strcmp(n, "flush") == 0) {
			log_info("control: flush: %d messages", release(r, NULL, MG_REL_HURRY));
		} else if (strncmp(n, "flush.", 6) == 0 && mg_domain_valid(n + 6, strlen(n + 6)) == 0) {
			log_info("control: flush %s: %d messages", n + 6, release(r, n + 6, MG_REL_ETRN));
		} else if (strncmp(n, "delete.", 7) == 0 && mg_id_valid(n + 7)) {
			struct job *j = find_job(r, n + 7);
			struct qent **qp = j ? NULL : q_find(r, n + 7);
			if (j) {
				j->delete_after = 1;
			} else {
				if (qp)
					q_free(q_unlink(r, qp));
				if (mg_spool_remove(ctx->conf.spool, n + 7) == 0)
					log_info("queue %s: deleted by the operator", n + 7);
			}
		} else {
			log_warn("control: ignoring unknown request '%s'", n);
		}
		unlink(p);
	}
	closedir(d);
	scan_soon(r);
}

void mg_runner_reconfigure(struct mg_ctx *ctx)
{
	struct mg_runner *r = ctx->runner;
	if (!r)
		return;
	net_timer_every(r->tick, (unsigned long)ctx->conf.queue_scan_interval * 1000);
	mg_pool_clear(ctx);   /* parked sessions were admitted by the old TLS policy */
	scan_soon(r);
}
