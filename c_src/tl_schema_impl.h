/* Internals shared by tl_schema.c (parsing) and tl_schema_resolve.c (resolution, lookups). */
#ifndef MTPROTO_TL_SCHEMA_IMPL_H
#define MTPROTO_TL_SCHEMA_IMPL_H

#include "tl_schema.h"

/* Text kept until tl_schema_finish resolves it. */
struct tl_schema_pending {
    char **generics; /* per constructor: space-separated generic variable names ("" if none) */
    int32_t cap;
};

/* Fills *d (if any) with the file, line and a formatted message. */
void tl_schema_diag(tl_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Grows *arr (elements of elem bytes, capacity *cap) to hold need; 0 or -1 (no memory). */
int tl_schema_grow(void **arr, int32_t *cap, int32_t need, size_t elem);

#endif
