/* Fake QEMU: the library entry point UTM calls. */
#include "qemu/osdep.h"

const char qemu_version_banner[] = "QEMU emulator version " QEMU_VERSION " (fake, helix fixture)";

int qemu_init(int argc, char **argv)
{
    (void)argc; (void)argv;
    g_main_loop_new(0, 0);
    g_file_new_for_path("/");
    g_object_new(0, 0);
    g_module_open(0, 0);
    if (ZSTD_compressBound(4096) == 0) {
        return 1;
    }
    slirp_new(0, 0, 0);
    qemu_console_init();
    usb_redir_init();
    helix_frame_export_init();
#ifdef CONFIG_SPICE
    qemu_spice_init();
#endif
    return 0;
}
