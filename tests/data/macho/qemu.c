/* A stand-in for libqemu-aarch64-softmmu: calls one function of each sysroot library so the
 * linker records all of them as dependencies. BLOB_MB pads __TEXT to a QEMU-like size. */
extern int printf(const char *, ...);
#define DEP(s) extern int s##_fn(int);
#define LIBS(X) X(pixman_1_0) X(png16_16) X(jpeg_62) X(epoxy_0) X(gio_2_0_0) X(gobject_2_0_0) \
    X(glib_2_0_0) X(zstd_1) X(slirp_0) X(spice_server_1) X(virglrenderer_1) X(usbredirparser_1) \
    X(usb_1_0_0) X(gmodule_2_0_0) X(ffi_8)
LIBS(DEP)
extern int gnutls_fn(int);
#ifndef BLOB_MB
#define BLOB_MB 0
#endif
#if BLOB_MB > 0
__attribute__((used)) const unsigned char qemu_blob[BLOB_MB << 20] = {1, 2, 3};
#endif
#define CALL(s) n += s##_fn(x);
int qemu_main(int x) {
    int n = 0;
    LIBS(CALL)
    n += gnutls_fn(x);
    printf("qemu %d\n", n);
    return n;
}
