/* mg_policy.h - who may do what: CIDR lists, the relay decision, the outbound TLS
 * policy table and the per-destination TLS memory. Pure data, no I/O except the TLS
 * memory's file (so `mailgw queue` in another process can show it). */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* ---- CIDR ---- */
struct mg_cidr {
	int family;        /* 4 or 6 */
	uint8_t addr[16];
	int bits;
};
/* "192.0.2.0/24", "10.1.2.3", "::1", "fd00::/8". Returns 0/-1. */
int mg_cidr_parse(const char *s, struct mg_cidr *c);
/* ip: numeric IPv4 or IPv6 ("::ffff:192.0.2.1" matches IPv4 entries). 1 on match. */
int mg_cidr_match(const struct mg_cidr *c, const char *ip);

struct mg_cidr_list {
	struct mg_cidr *v;
	size_t n;
};
/* Adds one entry; err gets the reason. */
int mg_cidr_list_add(struct mg_cidr_list *l, const char *s);
/* Adds every whitespace/comma separated entry of s. */
int mg_cidr_list_add_all(struct mg_cidr_list *l, const char *s, char *err, size_t errlen);
int mg_cidr_list_match(const struct mg_cidr_list *l, const char *ip);
void mg_cidr_list_free(struct mg_cidr_list *l);

/* ---- domain lists ("example.com" exact, ".example.com" any subdomain) ---- */
int mg_domain_list_match(char *const *v, size_t n, const char *domain);

/* ---- relay policy ---- */
enum mg_relay {
	MG_RELAY_DENY = 0,   /* 550 5.7.1 Relay access denied */
	MG_RELAY_INBOUND,    /* recipient domain is one we relay for */
	MG_RELAY_OUTBOUND,   /* client is on a network allowed to relay anywhere */
};
struct mg_relay_policy {
	char *const *domains;   /* relay_domains */
	size_t ndomains;
	const struct mg_cidr_list *clients;   /* relay_clients (mynetworks) */
};
enum mg_relay mg_relay_check(const struct mg_relay_policy *p, const char *client_ip,
			     const char *rcpt);

/* ---- outbound TLS policy ---- */
enum mg_tls_level { MG_TLS_NONE = 0, MG_TLS_MAY, MG_TLS_ENCRYPT, MG_TLS_VERIFY };
const char *mg_tls_level_name(enum mg_tls_level l);
int mg_tls_level_parse(const char *s, enum mg_tls_level *l);

struct mg_tls_rule {
	char key[256];        /* domain, ".domain", or empty for a CIDR rule */
	struct mg_cidr cidr;
	int is_cidr;
	enum mg_tls_level level;
};
struct mg_tls_policy {
	struct mg_tls_rule *v;
	size_t n;
	enum mg_tls_level def;
};
/* "example.com encrypt", ".example.com verify", "[192.0.2.1] encrypt",
 * "192.0.2.0/24 none". */
int mg_tls_policy_add(struct mg_tls_policy *p, const char *line, char *err, size_t errlen);
/* Level for a destination domain (exact, then the longest ".parent" rule). found is
 * set to 1 when a rule matched (otherwise the default is returned). */
enum mg_tls_level mg_tls_policy_domain(const struct mg_tls_policy *p, const char *domain, int *found);
/* Level once the next hop's IP is known: an IP rule applies when it is stricter than
 * what the domain gave, or when the domain had no rule. */
enum mg_tls_level mg_tls_policy_final(const struct mg_tls_policy *p, const char *domain,
				      const char *ip);
void mg_tls_policy_free(struct mg_tls_policy *p);

/* ---- TLS memory: what a destination did last time we tried STARTTLS ---- */
enum mg_tlsmem_state { MG_TLSMEM_UNKNOWN = 0, MG_TLSMEM_NOT_OFFERED, MG_TLSMEM_HANDSHAKE_FAILED };
struct mg_tlsmem_entry {
	char dest[272];        /* "host:port" of the next hop */
	enum mg_tlsmem_state state;
	long long until;       /* unix seconds; forgotten afterwards (re-probe) */
	char detail[128];
};
struct mg_tlsmem {
	struct mg_tlsmem_entry *v;
	size_t n, max;
};
const char *mg_tlsmem_state_name(enum mg_tlsmem_state s);
void mg_tlsmem_init(struct mg_tlsmem *m, size_t max);
enum mg_tlsmem_state mg_tlsmem_get(struct mg_tlsmem *m, const char *dest, long long now,
				   const struct mg_tlsmem_entry **entry);
int mg_tlsmem_set(struct mg_tlsmem *m, const char *dest, enum mg_tlsmem_state s,
		  long long until, const char *detail);
void mg_tlsmem_forget(struct mg_tlsmem *m, const char *dest);
/* Text file "dest state until detail" per line; load skips bad lines (fuzzed). */
int mg_tlsmem_parse(struct mg_tlsmem *m, const char *text, size_t len, long long now);
int mg_tlsmem_save(const struct mg_tlsmem *m, const char *path, long long now);
int mg_tlsmem_load(struct mg_tlsmem *m, const char *path, long long now);
void mg_tlsmem_free(struct mg_tlsmem *m);
#endif
