#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "hubtel_wire.h"
#include "parse.h"

/*
 * One string member, checked and converted by its kind (parse.h). A missing member, or a null
 * one when optional, is absent: "" unless required.
 */
static int
hubtel_member(json_t *obj, const struct parse_spec *f, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, f->name);
    const char *s;
    size_t n;

    if (v == NULL || (json_is_null(v) && !f->required)) {
        if (!f->required)
            return parse_value(f, "", 0, err, errlen);
        parse_seterr(err, errlen, "missing field '%s'", f->name);
        return -1;
    }
    if (!json_is_string(v)) {
        parse_seterr(err, errlen, "field '%s' must be a string", f->name);
        return -1;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    /* jansson already refuses \u0000 and bad UTF-8 without JSON_ALLOW_NUL; keep it that way */
    if (memchr(s, '\0', n) != NULL || !parse_utf8_valid(s, n)) {
        parse_seterr(err, errlen, "invalid string in '%s'", f->name);
        return -1;
    }
    return parse_value(f, s, n, err, errlen);
}

static int
hubtel_members(json_t *obj, const struct parse_spec *f, size_t n, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (hubtel_member(obj, &f[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Sequence: a non-negative integer, or the same written as a string. */
static int
hubtel_sequence(json_t *obj, uint64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, "Sequence");

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i >= 0) {
            *out = (uint64_t)i;
            return 0;
        }
    } else if (json_is_string(v)) {
        if (parse_u64(json_string_value(v), json_string_length(v), 0, UINT64_MAX, out) == 0)
            return 0;
    } else {
        parse_seterr(err, errlen, "field '%s' must be a number", "Sequence");
        return -1;
    }
    parse_seterr(err, errlen, "bad %s", "Sequence");
    return -1;
}

static int
hubtel_fields(json_t *root, struct hubtel_req *r, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum hubtel_type type;
    } types[] = {
        {"initiation", HUBTEL_INITIATION},
        {"response", HUBTEL_RESPONSE},
        {"release", HUBTEL_RELEASE},
        {"timeout", HUBTEL_TIMEOUT},
    };
    char type[17];
    /* Type is known before the rest is read: a bad Type is the error a peer sees first */
    const struct parse_spec head[] = {
        PARSE_FIELD("SessionId", PF_ID, 1, r->session_id),
        PARSE_FIELD("Mobile", PF_MSISDN, 1, r->mobile),
        PARSE_FIELD("Type", PF_TEXT, 1, type),
    };
    const struct parse_spec rest[] = {
        PARSE_FIELD("Message", PF_TEXT, 1, r->message),
        PARSE_FIELD("ServiceCode", PF_TEXT, 0, r->service_code),
        PARSE_FIELD("Operator", PF_TEXT, 0, r->operator_name),
        PARSE_FIELD("ClientState", PF_TEXT, 0, r->client_state),
    };
    size_t i;

    if (hubtel_members(root, head, sizeof(head) / sizeof(head[0]), err, errlen) != 0)
        return -1;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (parse_casematch(type, types[i].name))
            break;
    }
    if (i == sizeof(types) / sizeof(types[0])) {
        parse_seterr(err, errlen, "bad %s", "Type");
        return -1;
    }
    r->type = types[i].type;
    if (hubtel_members(root, rest, sizeof(rest) / sizeof(rest[0]), err, errlen) != 0)
        return -1;
    return hubtel_sequence(root, &r->sequence, err, errlen);
}

int
hubtel_parse(const char *body, size_t len, struct hubtel_req *r, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    memset(r, 0, sizeof(*r));
    parse_seterr(err, errlen, "%s", "");
    if (body == NULL || len == 0) {
        parse_seterr(err, errlen, "%s", "empty body");
        return -1;
    }
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jerr.text may quote the input: report only the kind and the place */
        if (json_error_code(&jerr) == json_error_duplicate_key)
            parse_seterr(err, errlen, "%s", "duplicate key in JSON");
        else
            parse_seterr(err, errlen, "bad JSON at line %d column %d", jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(root)) {
        parse_seterr(err, errlen, "%s", "body is not a JSON object");
        rc = -1;
    } else {
        rc = hubtel_fields(root, r, err, errlen);
    }
    json_decref(root);
    return rc;
}

/* json_dumps() allocates with jansson's allocator, plain malloc unless json_set_alloc_funcs(). */
char *
hubtel_render(int end, const char *message, const char *client_state)
{
    json_t *o = json_object();
    char *s = NULL;

    if (o == NULL)
        return NULL;
    if (json_object_set_new(o, "Type", json_string(end ? "release" : "response")) == 0 &&
        json_object_set_new(o, "Message", json_string(message != NULL ? message : "")) == 0 &&
        json_object_set_new(o, "ClientState",
                            json_string(client_state != NULL ? client_state : "")) == 0)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
