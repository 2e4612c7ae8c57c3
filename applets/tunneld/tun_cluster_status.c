/* tun_cluster_status.c - `tunneld status [-c FILE]`: prints what the running relay last
 * wrote to state_dir/status (its sessions, the fleet's relays and their load), and says
 * so when that is older than the relay's heartbeat would leave it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/exitcode.h"
#include "core/fs.h"
#include "tun.h"
#include "tun_cluster.h"

int tun_status_main(int argc, char **argv, const char *default_config)
{
	const char *config = default_config;
	char err[CONF_ERR_LEN + 128], path[600], line[1024];
	struct tun_conf c;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config = argv[++i];
		else {
			fprintf(stderr, "usage: tunneld status [-c FILE]\n");
			return EXIT_USAGE;
		}
	}
	if (tun_conf_load(&c, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "tunneld: %s\n", err);
		tun_conf_free(&c);
		return EXIT_CONFIG;
	}
	int fleet = c.cl_redis != NULL;
	long lease = c.cl_lease;
	fs_path_join(path, sizeof(path), c.state_dir, "status");
	tun_conf_free(&c);
	if (!fleet) {
		fprintf(stderr, "tunneld: status needs a [cluster] section (a single relay logs its sessions)\n");
		return EXIT_CONFIG;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "tunneld: %s: no status (is tunneld running with this configuration?)\n", path);
		return EXIT_UNAVAILABLE;
	}
	int rc = EXIT_OK;
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
		const char *u = strstr(line, " updated=");
		if (strncmp(line, "relay ", 6) == 0 && u) {
			long long t = atoll(u + 9), age = (long long)time(NULL) - t;
			if (age > lease) {
				printf("stale: written %llds ago (the relay writes it every %lds): is it running?\n", age,
				       lease / 3 ? lease / 3 : 1);
				rc = EXIT_UNAVAILABLE;
			}
		}
	}
	fclose(f);
	return rc;
}
