/* C unit tests of the TL schema parser: canonical-form CRC32s, the real schema files, and every
 * kind of schema error with the line it names. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "ctest.h"
#include "tl_schema.h"

static int64_t crc(const char *def) {
    return tl_schema_line_crc(def, strlen(def));
}

static void test_crc(void) {
    CHECK(crc("ping#7abe77ec ping_id:long = Pong") == 0x7abe77ec);
    CHECK(crc("ping ping_id:long = Pong") == 0x7abe77ec);
    CHECK(crc("vector#1cb5c415 {t:Type} # [ t ] = Vector t") == 0x1cb5c415);
    CHECK(crc("invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X") == 0xda9b0d0d);
    /* bytes is hashed as string; flags.N?true fields are left out; Vector<T> as "Vector T" */
    CHECK(crc("inputPhoto#3bb3b94a id:long access_hash:long file_reference:bytes = InputPhoto") ==
          0x3bb3b94a);
    CHECK(crc("inputMediaUploadedPhoto#1e287d04 flags:# spoiler:flags.2?true file:InputFile "
              "stickers:flags.0?Vector<InputDocument> ttl_seconds:flags.1?int = InputMedia") ==
          0x1e287d04);
    CHECK(crc("resPQ#05162463 nonce:int128 server_nonce:int128 pq:string "
              "server_public_key_fingerprints:Vector<long> = ResPQ") == 0x05162463);
    CHECK(crc("x") == -1);
}

static void test_real_schema(void) {
    tl_diag diag;
    memset(&diag, 0, sizeof diag);
    tl_schema *s = tl_schema_load_dir("priv/schema", &diag);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "%s:%d: %s\n", diag.file, diag.line, diag.message);
        return;
    }
    CHECK(s->layer == 198);
    CHECK(s->nctors > 2100);
    int32_t ping = tl_schema_find_id(s, 0x7abe77ec);
    CHECK(ping >= 0 && strcmp(s->ctors[ping].name, "ping") == 0 && s->ctors[ping].is_method);
    CHECK(tl_schema_find_name(s, "ping", 4) == ping);
    CHECK(tl_schema_find_id(s, 0xdeadbeef) < 0);
    CHECK(tl_schema_find_name(s, "pin", 3) < 0);

    /* msg_container's official id is marked, and its element is mtproto.tl's bare message */
    int32_t mc = tl_schema_find_id(s, 0x73f1f8dc);
    CHECK(mc >= 0 && s->ctors[mc].id_not_crc && s->ctors[mc].nparams == 1);
    const tl_type *v = &s->types[s->params[s->ctors[mc].first_param].type];
    CHECK(v->kind == TLK_BARE_VECTOR);
    const tl_type *m = &s->types[v->elem];
    CHECK(m->kind == TLK_BARE && strcmp(s->ctors[m->ref].name, "message") == 0);
    CHECK(strcmp(s->files[s->ctors[m->ref].file], "mtproto.tl") == 0);
    /* the name means api.tl's message */
    int32_t api_message = tl_schema_find_name(s, "message", 7);
    CHECK(api_message >= 0 && s->ctors[api_message].id == 0x96fdbbe9);

    /* flags: messages.sendMessage silent is flags.5?true on param 0 */
    int32_t sm = tl_schema_find_name(s, "messages.sendMessage", 20);
    CHECK(sm >= 0);
    if (sm >= 0) {
        const tl_param *p = &s->params[s->ctors[sm].first_param + 2];
        CHECK(strcmp(p->name, "silent") == 0 && p->flag_param == 0 && p->flag_bit == 5);
        CHECK(s->types[p->type].kind == TLK_TRUE);
    }
    /* a method's result type: Vector<long> */
    int32_t rq = tl_schema_find_name(s, "messages.receivedQueue", 22);
    CHECK(rq >= 0 && s->types[s->ctors[rq].type].kind == TLK_VECTOR);
    CHECK(s->types[s->types[s->ctors[rq].type].elem].kind == TLK_LONG);
    /* Bool, and the special constructors found */
    CHECK(s->bool_true >= 0 && s->ctors[s->bool_true].id == 0x997275b5);
    CHECK(s->gzip_packed >= 0);
    /* every computed or declared id is unique and findable */
    int all = 1;
    for (int32_t i = 0; i < s->nctors; i++) all &= tl_schema_find_id(s, s->ctors[i].id) == i;
    CHECK(all);
    tl_schema_free(s);
}

/* Parses text as one file; returns the line of the error (0 if none) and its message. */
static int schema_error(const char *text, char *msg, size_t n) {
    tl_diag diag;
    memset(&diag, 0, sizeof diag);
    tl_schema *s = tl_schema_new();
    int rc = tl_schema_add(s, "t.tl", text, strlen(text), &diag);
    if (rc == 0) rc = tl_schema_finish(s, &diag);
    tl_schema_free(s);
    snprintf(msg, n, "%s", diag.message);
    return rc == 0 ? 0 : diag.line;
}

static void test_errors(void) {
    char msg[256];
    CHECK(schema_error("a#00000001 x:int = A;\nb#2 = B;\n", msg, sizeof msg) == 1);
    CHECK(strstr(msg, "not the CRC32") != NULL);
    CHECK(schema_error("// c\n\nping#7abe77ec ping_id:long = Pong;\nbad#1 = B;\n", msg, sizeof msg) == 4);
    /* a marked line may differ, but a marked line that matches is an error too */
    CHECK(schema_error("bad#1 = B; // " TL_ID_NOT_CRC_MARK " test\n", msg, sizeof msg) == 0);
    CHECK(schema_error("ping#7abe77ec ping_id:long = Pong; // " TL_ID_NOT_CRC_MARK "\n", msg,
                       sizeof msg) == 1);
    /* undefined type, bare type, flags word, syntax */
    CHECK(schema_error("a x:Nope = A;\n", msg, sizeof msg) == 1);
    CHECK(strstr(msg, "Nope") != NULL);
    CHECK(schema_error("a x:int = A;\nb y:nope = B;\n", msg, sizeof msg) == 2);
    CHECK(schema_error("a x:flags.0?int = A;\n", msg, sizeof msg) == 1);
    CHECK(schema_error("a x:int = A\n", msg, sizeof msg) == 1);
    CHECK(schema_error("a x = A;\n", msg, sizeof msg) == 1);
    CHECK(schema_error("a = A;\na = B;\n", msg, sizeof msg) == 2);
    CHECK(schema_error("a x:%B = A;\nb = B;\nc = B;\n", msg, sizeof msg) == 1);
    /* a definition over two lines, sections, LAYER */
    CHECK(schema_error("a x:int\n  y:long = A;\n---functions---\nf = A;\n// LAYER 7\n", msg,
                       sizeof msg) == 0);
    tl_schema *s = tl_schema_new();
    const char *t = "a x:int\n  y:long = A;\n---functions---\nf = A;\n// LAYER 7\n";
    CHECK(tl_schema_add(s, "t.tl", t, strlen(t), NULL) == 0 && tl_schema_finish(s, NULL) == 0);
    CHECK(s->layer == 7 && s->nctors == 2 && s->ctors[1].is_method && s->ctors[0].nparams == 2);
    tl_schema_free(s);
}

/* load_dir refuses a schema without its layer line, naming api.tl. */
static void test_no_layer(void) {
    char dir[] = "/tmp/tl_schema_XXXXXX";
    if (!mkdtemp(dir)) return;
    char path[256];
    const char *files[2][2] = {{"mtproto.tl", "ping#7abe77ec ping_id:long = Pong;\n"},
                               {"api.tl", "true#3fedd339 = True;\n"}};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        fputs(files[i][1], f);
        fclose(f);
    }
    tl_diag diag;
    memset(&diag, 0, sizeof diag);
    tl_schema *s = tl_schema_load_dir(dir, &diag);
    CHECK(s == NULL && strcmp(diag.file, "api.tl") == 0 && strstr(diag.message, "LAYER"));
    snprintf(path, sizeof path, "%s/api.tl", dir);
    FILE *f = fopen(path, "a");
    fputs("// LAYER 5\n", f);
    fclose(f);
    s = tl_schema_load_dir(dir, &diag);
    CHECK(s != NULL && s->layer == 5 && s->nctors == 2);
    tl_schema_free(s);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        remove(path);
    }
    rmdir(dir);
}

int main(void) {
    test_crc();
    test_real_schema();
    test_errors();
    test_no_layer();
    return ctest_summary("tl_schema");
}
