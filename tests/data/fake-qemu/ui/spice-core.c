/* Fake QEMU: SPICE server (only built when spice-protocol and spice-server are found). */
#include "qemu/osdep.h"

const char qemu_spice_option[] = "-spice";

int qemu_spice_init(void)
{
    return spice_server_new() != 0;
}
