/*
 * wasi.h - the WASI view of an instance, built from its plugin's manifest
 * (internal).
 */
#ifndef WP_INSTANCE_WASI_H
#define WP_INSTANCE_WASI_H

#include "instance/instance.h"

/* Gives the instance's store a WASI context holding only what the manifest
   grants (args, env, stdin, stdout/stderr routing, directories). */
wp_error *wp_instance_setup_wasi(wp_instance *inst);

#endif
