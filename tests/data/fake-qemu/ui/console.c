/* Fake QEMU: display surfaces (pixman, png/jpeg screendumps, GL through epoxy, virgl). */
#include "qemu/osdep.h"

int qemu_console_init(void)
{
    pixman_image_create_bits(0, 640, 480, 0, 0);
    png_create_write_struct("1.6.43", 0, 0, 0);
    jpeg_CreateCompress(0, 62, 0);
    return epoxy_gl_version() + virgl_renderer_init(0, 0, 0);
}
