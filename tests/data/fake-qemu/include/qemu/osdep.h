/* Fake QEMU (helix test fixture): one symbol from each UTM sysroot library.
 * The sysroot ships .tbd stubs exporting exactly these, so every library is
 * really linked (LC_LOAD_DYLIB) and none is dead-stripped. */
#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H
#include "config-host.h"

void *g_main_loop_new(void *context, int is_running);   /* glib-2.0 */
void *g_file_new_for_path(const char *path);             /* gio-2.0 */
void *g_object_new(unsigned long type, const char *first, ...); /* gobject-2.0 */
void *g_module_open(const char *file, int flags);        /* gmodule-2.0 */
void *pixman_image_create_bits(int fmt, int w, int h, void *bits, int stride); /* pixman-1 */
void *png_create_write_struct(const char *ver, void *a, void *b, void *c); /* png16 */
void jpeg_CreateCompress(void *cinfo, int version, unsigned long size); /* jpeg */
int epoxy_gl_version(void);                               /* epoxy */
unsigned long ZSTD_compressBound(unsigned long size);     /* zstd */
void *slirp_new(const void *cfg, const void *cb, void *opaque); /* slirp */
int virgl_renderer_init(void *cookie, int flags, void *cbs); /* virglrenderer */
void *usbredirparser_create(void);                        /* usbredirparser */
int libusb_init(void **ctx);                              /* usb-1.0 */
void *spice_server_new(void);                             /* spice-server */

int qemu_console_init(void);
int usb_redir_init(void);
int helix_frame_export_init(void);
int qemu_spice_init(void);
#endif
