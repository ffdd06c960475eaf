/* TL schema: parses TL schema text (api.tl, mtproto.tl) into read-only tables used by the codec.
 *
 * Plain C (no erl_nif): linked by the NIF, the C unit tests, the fuzzers and the build-time
 * checker (c_src/tl_tools/tl_schema_check.c). A schema is built once, then only read.
 *
 * Every declared constructor id is checked against the CRC32 of the line's canonical form; a
 * line without an id gets the computed one. A line whose official id is known not to be that CRC
 * (msg_container in mtproto.tl) carries the marker comment TL_ID_NOT_CRC_MARK on the same line. */
#ifndef MTPROTO_TL_SCHEMA_H
#define MTPROTO_TL_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#define TL_ID_NOT_CRC_MARK "tl:id-not-crc"
#define TL_ID_VECTOR 0x1cb5c415u
#define TL_ID_GZIP_PACKED 0x3072cfa1u
#define TL_MAX_PARAMS 255
#define TL_MAX_FLAG_WORDS 16
#define TL_MAX_DEPTH 64 /* nesting of objects, vectors and gzip_packed, decode and encode */

/* What a type is on the wire. */
typedef enum {
    TLK_INT,         /* int: 4 bytes */
    TLK_LONG,        /* long: 8 bytes */
    TLK_DOUBLE,      /* double: 8 bytes */
    TLK_INT128,      /* 16 bytes */
    TLK_INT256,      /* 32 bytes */
    TLK_STRING,      /* string / bytes: length-prefixed, padded to 4 */
    TLK_BOOL,        /* boxed Bool: boolTrue / boolFalse */
    TLK_TRUE,        /* bare `true`: no bytes (as flags.N?true: a boolean kept in the flags) */
    TLK_FLAGS,       /* `#`: a flags word */
    TLK_VECTOR,      /* Vector<T>: vector id, count, bare elements */
    TLK_BARE_VECTOR, /* vector<T>: count, bare elements */
    TLK_BOXED,       /* a boxed type: constructor id + fields of one of its constructors */
    TLK_BARE,        /* a bare constructor (%T or lowercase name): its fields, no id */
    TLK_OBJECT       /* Object or !X: any boxed value, methods included */
} tl_kind;

typedef struct {
    uint8_t kind;  /* tl_kind */
    int32_t ref;   /* TLK_BOXED: type index; TLK_BARE: constructor index; else -1 */
    int32_t elem;  /* vectors: type-node index of the element; else -1 */
} tl_type;

typedef struct {
    const char *name;      /* field name */
    const char *type_text; /* type as written, without the flags condition */
    int32_t type;          /* type-node index */
    int16_t flag_param;    /* index (within the constructor) of its flags word, or -1 */
    uint8_t flag_bit;      /* bit in that word */
    uint32_t name_id;      /* index into the schema's distinct field names */
} tl_param;

typedef struct {
    const char *name;        /* e.g. "messages.sendMessage" */
    const char *type_text;   /* result type as written, e.g. "Vector<long>" */
    uint32_t id;             /* constructor id */
    uint8_t is_method;       /* declared in a ---functions--- section */
    uint8_t id_not_crc;      /* declared id differs from the CRC32 and the line is marked */
    uint16_t nparams;
    int32_t first_param;     /* index into tl_schema.params */
    int32_t type;            /* constructors: boxed type index; methods: result type-node index */
    int32_t file;            /* index into tl_schema.files */
    int32_t line;            /* 1-based line of the definition */
    uint16_t min_size;       /* fewest bytes its bare fields can take */
} tl_ctor;

typedef struct {
    const char *name;   /* boxed type name, e.g. "InputPeer" */
    int32_t file;       /* file that defines it: each file sees its own types first */
    int32_t first_ctor; /* index into tl_schema.type_ctors */
    int32_t nctors;
} tl_boxed_type;

/* A parse or check failure: the file, the line and what is wrong. */
typedef struct {
    char file[64];
    int line;
    char message[256];
} tl_diag;

typedef struct tl_schema tl_schema;

struct tl_schema {
    tl_ctor *ctors;
    int32_t nctors;
    tl_param *params;
    int32_t nparams;
    tl_type *types;
    int32_t ntypes;
    tl_boxed_type *boxed;
    int32_t nboxed;
    int32_t *type_ctors; /* constructors grouped by boxed type */
    const char **field_names; /* distinct field names, indexed by tl_param.name_id */
    int32_t nfield_names;
    char **files;
    int32_t nfiles;
    int layer;           /* from a "// LAYER N" comment, 0 if none */
    int32_t bool_true, bool_false, gzip_packed; /* constructor indexes, -1 if absent */
    int32_t object_type; /* the TLK_OBJECT type node */
    /* private: hash tables and storage */
    int32_t *by_id;      /* open addressing, size id_mask+1, -1 empty */
    uint32_t id_mask;
    int32_t *by_name;
    uint32_t name_mask;
    struct tl_schema_pending *pending;
    char **strings;
    int32_t nstrings, cap_strings;
    int32_t cap_ctors, cap_params, cap_types;
};

/* An empty schema; NULL when out of memory. */
tl_schema *tl_schema_new(void);

/* Adds the definitions of one schema file (text of len bytes; `file` names it in diagnostics).
 * Returns 0, or -1 with *diag filled (syntax error, CRC mismatch, duplicate). */
int tl_schema_add(tl_schema *s, const char *file, const char *text, size_t len, tl_diag *diag);

/* Resolves type references once every file is added and builds the lookup tables. Returns 0, or
 * -1 with *diag naming the line of an undefined type. The schema is read-only afterwards. */
int tl_schema_finish(tl_schema *s, tl_diag *diag);

/* Reads <dir>/mtproto.tl then <dir>/api.tl and finishes: the schema the library uses. A schema
 * without a `// LAYER N` line is refused too. */
tl_schema *tl_schema_load_dir(const char *dir, tl_diag *diag);

void tl_schema_free(tl_schema *s);

/* Constructor or method index by id or by name (len bytes), -1 if none. */
int32_t tl_schema_find_id(const tl_schema *s, uint32_t id);
int32_t tl_schema_find_name(const tl_schema *s, const char *name, size_t len);

/* CRC32 (zlib polynomial) of the canonical form of one definition (no id, no `;`). Exposed for
 * tests: the canonical form drops the id, `flags.N?true` fields and braces, writes `bytes` as
 * `string`, and `<`/`>` as a space/nothing. Returns -1 when the text does not parse. */
int64_t tl_schema_line_crc(const char *definition, size_t len);

#endif
