/* databox - end-to-end encrypted data rooms (server and client)
 * Stub until its issue lands: --help works, everything else exits 69. */
#include "applet.h"
#include "core/cli.h"

static int databox_main(int argc, char **argv);

const struct applet databox_applet = {
	"databox", databox_main,
	"serve [-d] [-c FILE] | crypto ... | admin ... | login | upload | download ...",
	APPLET_DAEMON,
	"end-to-end encrypted data rooms (server and client)",
};

static int databox_main(int argc, char **argv)
{
	return cli_not_implemented(&databox_applet, argc, argv);
}
