/* tunneld - relay for end-to-end encrypted remote-support sessions
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int tunneld_main(int argc, char **argv);

const struct applet tunneld_applet = {
	"tunneld", tunneld_main,
	"[-d] [-n] [-c FILE]",
	APPLET_DAEMON,
	"relay for end-to-end encrypted remote-support sessions",
};

static int tunneld_main(int argc, char **argv)
{
	return cli_not_implemented(&tunneld_applet, argc, argv);
}
