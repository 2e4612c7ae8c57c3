/* hitc - client for the HI-Tier HIT line protocol
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int hitc_main(int argc, char **argv);

const struct applet hitc_applet = {
	"hitc", hitc_main,
	"[-c FILE] --host HOST [--port 2223] --bnr BNR15 --pin-file FILE [COMMAND...]",
	APPLET_CLIENT,
	"client for the HI-Tier HIT line protocol",
};

static int hitc_main(int argc, char **argv)
{
	return cli_not_implemented(&hitc_applet, argc, argv);
}
