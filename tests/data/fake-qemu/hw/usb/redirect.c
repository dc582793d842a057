/* Fake QEMU: USB redirection (usbredirparser, libusb host devices). */
#include "qemu/osdep.h"

int usb_redir_init(void)
{
    void *ctx = 0;
    usbredirparser_create();
    return libusb_init(&ctx);
}
