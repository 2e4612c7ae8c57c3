/* mailgw - TLS mail gateway: SMTP relay, queue, POP3/IMAP TLS front ends
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int mailgw_main(int argc, char **argv);

const struct applet mailgw_applet = {
	"mailgw", mailgw_main,
	"[-d] [-n] [-c FILE] | queue | flush [DOMAIN] | delete ID | tls-check HOST[:PORT]",
	APPLET_DAEMON,
	"TLS mail gateway: SMTP relay, queue, POP3/IMAP TLS front ends",
};

static int mailgw_main(int argc, char **argv)
{
	return cli_not_implemented(&mailgw_applet, argc, argv);
}
