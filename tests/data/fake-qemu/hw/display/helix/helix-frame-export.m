/* Fake QEMU: the Helix frame-export display module. Bump the version string on
 * every change; build-qemu verifies it is present in the installed binary. */
#include "qemu/osdep.h"

#define HELIX_FRAME_EXPORT_VERSION "HELIX_FRAME_EXPORT_VERSION=v3 DisplaySurface"

__attribute__((used, visibility("default")))
const char helix_frame_export_version[] = HELIX_FRAME_EXPORT_VERSION;

int helix_frame_export_init(void)
{
    return helix_frame_export_version[0] == 'H' ? 0 : 1;
}
