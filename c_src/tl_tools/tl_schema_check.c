/* Build-time schema check, run by `make nif`: parses <dir>/mtproto.tl and <dir>/api.tl exactly as
 * the NIF will at load, and fails naming the file and line of the first problem (a constructor id
 * that is not the CRC32 of its canonical form, a syntax error, an undefined type). */
#include <stdio.h>

#include "tl_schema.h"

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "priv/schema";
    tl_diag diag = {{0}, 0, {0}};
    tl_schema *s = tl_schema_load_dir(dir, &diag);
    if (!s) {
        fprintf(stderr, "%s:%d: error: %s\n", diag.file, diag.line, diag.message);
        return 1;
    }
    int marked = 0, methods = 0;
    for (int32_t i = 0; i < s->nctors; i++) {
        if (s->ctors[i].id_not_crc) marked++;
        if (s->ctors[i].is_method) methods++;
    }
    printf("TL schema %s: layer %d, %d constructors, %d methods, %d boxed types, %d ids marked "
           "not-CRC\n",
           dir, s->layer, s->nctors - methods, methods, s->nboxed, marked);
    tl_schema_free(s);
    return 0;
}
