/*
 * kind.h - the component kind (internal): its methods table.
 */
#ifndef WP_COMPONENT_KIND_H
#define WP_COMPONENT_KIND_H

#include "plugin/kind.h"

extern const wp_kind wp_component_kind;

#endif
