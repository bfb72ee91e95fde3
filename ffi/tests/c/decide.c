/*
 * Decides a world through the C ABI, as a C service would: reads the
 * world (argv[1]), writes what it answers (stdout), and checks on the way
 * that every way of deciding agrees (C strings, packed ids, handles; owned
 * and shared settings; after a save and restore) and that refused inputs
 * answer their codes. tests/c.rs compares the answers with the Rust API.
 *
 * Input lines:  C <config json>  |  R <path> <body>  |  P <push json>
 *               followed by U <n> and n lines of recipient ids.
 * Output lines: R <response>  |  D <i> <push> <layer> <level> <deferUntil>
 *               |  J <decisions json>  |  E <explanation json>  |  CHECK <name>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnd.h"

static void fail(const char *what, DndStatus status, char *message) {
    fprintf(stderr, "FAIL %s: status %d: %s\n", what, (int)status, message ? message : "(no message)");
    dnd_string_free(message);
    exit(1);
}

#define OK(call, what)                       \
    do {                                     \
        char *error_ = NULL;                 \
        DndStatus status_ = (call);          \
        if (status_ != DND_STATUS_OK)        \
            fail((what), status_, error_);   \
    } while (0)
/* `call` names `&error_` as its last argument. */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        exit(1);
    }
}

/* Expects `status` with a message containing `needle`; frees it. */
static void refused(DndStatus status, char *message, DndStatus want, const char *needle, const char *name) {
    if (status != want || message == NULL || strstr(message, needle) == NULL) {
        fprintf(stderr, "FAIL %s: status %d (want %d): %s\n", name, (int)status, (int)want,
                message ? message : "(no message)");
        exit(1);
    }
    dnd_string_free(message);
    printf("CHECK %s\n", name);
}

/* Runs `call` (whose last argument is `&error`) and expects it refused. */
#define REFUSED(call, want, needle, name)              \
    do {                                               \
        char *error = NULL;                            \
        DndStatus status_ = (call);                    \
        refused(status_, error, (want), (needle), (name)); \
    } while (0)

/* A buffer of `n` items of `size` bytes holding garbage, as malloc may:
 * the library writes every slot of an output and reads none. */
static void *dirty(size_t n, size_t size) {
    unsigned char *p = malloc(n * size);
    expect(p != NULL, "memory");
    memset(p, 0xA5, n * size);
    return p;
}

static char *chomp(char *line) {
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static int same(const DndDecision *a, const DndDecision *b, size_t n) {
    return memcmp(a, b, n * sizeof *a) == 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: decide WORLD\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    expect(in != NULL, "open the world");
    expect(strcmp(dnd_version(), "") != 0, "a version");

    DndSettings *settings = NULL;
    DndShared *shared = NULL;
    char *line = NULL, *last_push = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) > 0) {
        chomp(line);
        if (line[0] == 'C') {
            OK(dnd_settings_new(line + 2, &settings, &error_), "settings");
            OK(dnd_shared_new(line + 2, &shared, &error_), "shared");
        } else if (line[0] == 'R') {
            char *path = line + 2, *body = strchr(path, ' ');
            expect(body != NULL, "a request line");
            *body++ = '\0';
            char *mine = NULL, *theirs = NULL;
            OK(dnd_settings_handle(settings, path, (const uint8_t *)body, strlen(body), &mine, &error_), "handle");
            OK(dnd_shared_handle(shared, path, (const uint8_t *)body, strlen(body), &theirs, &error_), "shared handle");
            expect(strcmp(mine, theirs) == 0, "owned and shared settings answer alike");
            printf("R %s\n", mine);
            dnd_string_free(mine);
            dnd_string_free(theirs);
        } else if (line[0] == 'P') {
            free(last_push);
            last_push = strdup(line + 2);
            /* The recipients follow: U n, then one id a line. */
            expect(getline(&line, &cap, in) > 0 && line[0] == 'U', "a U line");
            size_t n = strtoul(line + 2, NULL, 10);
            char **ids = calloc(n + 1, sizeof *ids);
            size_t *ends = calloc(n + 1, sizeof *ends);
            char *packed = NULL;
            size_t used = 0;
            for (size_t i = 0; i < n; i++) {
                expect(getline(&line, &cap, in) > 0, "an id line");
                ids[i] = strdup(chomp(line));
                size_t len = strlen(ids[i]);
                packed = realloc(packed, used + len + 1);
                memcpy(packed + used, ids[i], len);
                used += len;
                ends[i] = used;
            }

            DndPrepared *prepared = NULL;
            OK(dnd_settings_prepare(settings, last_push, &prepared, &error_), "prepare");
            expect(dnd_prepared_recipient_count(prepared) == n, "the push's recipients");
            DndDecision *own = dirty(n + 1, sizeof *own), *by_id = dirty(n + 1, sizeof *by_id),
                        *by_packed = dirty(n + 1, sizeof *by_packed), *by_handle = dirty(n + 1, sizeof *by_handle);
            int64_t *defer = dirty(n + 1, sizeof *defer), *defer_by_handle = dirty(n + 1, sizeof *defer);
            OK(dnd_prepared_decide_recipients(prepared, own, defer, n, &error_), "decide recipients");
            OK(dnd_prepared_decide_ids(prepared, (const char *const *)ids, NULL, NULL, n, by_id, NULL, &error_),
               "decide ids");
            OK(dnd_prepared_decide_ids(prepared, NULL, (const uint8_t *)packed, ends, n, by_packed, NULL, &error_),
               "decide packed ids");
            expect(same(own, by_id, n), "by C string as the push's own");
            expect(same(own, by_packed, n), "packed ids as C strings");
            if (n > 0) {
                /* An id that is NULL, last: the whole batch is zeroed. */
                char *last = ids[n - 1];
                char *error = NULL;
                ids[n - 1] = NULL;
                DndStatus null_id = dnd_prepared_decide_ids(prepared, (const char *const *)ids, NULL, NULL, n, by_id,
                                                            NULL, &error);
                ids[n - 1] = last;
                char field[32];
                snprintf(field, sizeof field, "ids[%zu]", n - 1);
                refused(null_id, error, DND_STATUS_NULL, field, "a NULL id");
                for (size_t i = 0; i < n; i++)
                    expect(by_id[i].push == 0 && by_id[i].layer == 0 && by_id[i].level == 0,
                           "a refused batch by id is zeroed");
            }

            /* A change while a message holds the settings waits. */
            char *response = NULL, *error = NULL;
            DndStatus busy = dnd_settings_handle(settings, "/user/snooze/delete.json", (const uint8_t *)"userId=x", 8,
                                                 &response, &error);
            refused(busy, error, DND_STATUS_BUSY, "prepared message", "busy");

            /* By handle, through the shared settings. */
            uint64_t *handles = calloc(n + 1, sizeof *handles);
            OK(dnd_shared_intern(shared, NULL, (const uint8_t *)packed, ends, n, handles, &error_), "intern");
            DndPrepared *from_shared = NULL;
            OK(dnd_shared_prepare(shared, last_push, &from_shared, &error_), "shared prepare");
            OK(dnd_prepared_decide_handles(from_shared, handles, n, by_handle, defer_by_handle, &error_),
               "decide handles");
            expect(same(own, by_handle, n), "by handle as by id");
            expect(memcmp(defer, defer_by_handle, n * sizeof *defer) == 0, "deferrals by handle as by id");
            if (n > 0) {
                /* The shared settings' handles are not the owned settings'. */
                DndStatus foreign = dnd_prepared_decide_handles(prepared, handles, n, by_handle, NULL, &error);
                refused(foreign, error, DND_STATUS_FOREIGN_HANDLE, "handles[0]", "foreign handle");
                for (size_t i = 0; i < n; i++)
                    expect(by_handle[i].push == 0 && by_handle[i].layer == 0, "a refused batch is zeroed");
            }

            for (size_t i = 0; i < n; i++)
                printf("D %zu %d %d %d %lld\n", i, own[i].push, own[i].layer, own[i].level, (long long)defer[i]);
            char *json = NULL;
            OK(dnd_prepared_decisions_json(prepared, &json, &error_), "decisions json");
            printf("J %s\n", json);
            dnd_string_free(json);
            if (n > 0) {
                char *mine = NULL, *by_h = NULL;
                OK(dnd_prepared_explain(prepared, ids[0], &mine, &error_), "explain");
                OK(dnd_prepared_explain_handle(from_shared, handles[0], &by_h, &error_), "explain handle");
                expect(strcmp(mine, by_h) == 0, "explained alike by id and handle");
                printf("E %s\n", mine);
                dnd_string_free(mine);
                dnd_string_free(by_h);
            }
            dnd_prepared_free(prepared);
            dnd_prepared_free(from_shared);
            for (size_t i = 0; i < n; i++)
                free(ids[i]);
            free(ids), free(ends), free(packed), free(handles), free(own), free(by_id), free(by_packed);
            free(by_handle), free(defer), free(defer_by_handle);
        }
    }
    free(line);
    fclose(in);

    /* Refused inputs: each names its field and changes nothing. */
    DndPrepared *none = NULL;
    REFUSED(dnd_settings_prepare(settings, "{\"at\": 0, \"conversationType\": 3, \"targetId\": \"g\", "
                                           "\"fromUserId\": \"s\", \"recipients\": [\"r\", \"\"]}",
                                 &none, &error), DND_STATUS_INVALID, "push.recipients[1]", "bad recipient");
    REFUSED(dnd_settings_prepare(settings, "{\"at\": 0", &none, &error), DND_STATUS_INVALID, "push",
            "not json");
    REFUSED(dnd_settings_prepare(settings, NULL, &none, &error), DND_STATUS_NULL, "push", "null push");
    expect(none == NULL, "no output on failure");
    DndSettings *other = NULL;
    REFUSED(dnd_settings_new("{\"timeZone\": \"Mars/Olympus\"}", &other, &error), DND_STATUS_INVALID,
            "config.timeZone", "bad config");
    REFUSED(dnd_settings_restore((const uint8_t *)"{\"format\": 2}", 13, &other, &error), DND_STATUS_INVALID,
            "snapshot", "bad snapshot");
    const char *bad_ids[] = {"ok", "\xff"};
    uint64_t words[2];
    REFUSED(dnd_shared_intern(shared, bad_ids, NULL, NULL, 2, words, &error), DND_STATUS_UTF8, "ids[1]",
            "not utf-8");
    const char *empty_id[] = {"ok", ""};
    REFUSED(dnd_settings_intern(settings, empty_id, NULL, NULL, 2, words, &error), DND_STATUS_INVALID, "ids[1]",
            "empty id");
    char *response = NULL;
    OK(dnd_settings_handle(settings, "/user/blockPushPeriod/set.json", (const uint8_t *)"userId=a&period=5", 17,
                           &response, &error_),
       "a refused request");
    expect(strstr(response, "1002") != NULL, "a refused request answers 1002");
    dnd_string_free(response);
    printf("CHECK refused request\n");

    /* Save and restore: the restored settings decide the last push alike. */
    if (last_push != NULL) {
        char *snapshot = NULL;
        size_t len = 0;
        OK(dnd_settings_save(settings, &snapshot, &len, &error_), "save");
        expect(len == strlen(snapshot), "the snapshot's length");
        DndSettings *restored = NULL;
        OK(dnd_settings_restore((const uint8_t *)snapshot, len, &restored, &error_), "restore");
        DndPrepared *before = NULL, *after = NULL;
        OK(dnd_settings_prepare(settings, last_push, &before, &error_), "prepare before");
        OK(dnd_settings_prepare(restored, last_push, &after, &error_), "prepare after");
        size_t n = dnd_prepared_recipient_count(before);
        DndDecision *a = calloc(n + 1, sizeof *a), *b = calloc(n + 1, sizeof *b);
        OK(dnd_prepared_decide_recipients(before, a, NULL, n, &error_), "decide before");
        OK(dnd_prepared_decide_recipients(after, b, NULL, n, &error_), "decide after");
        expect(same(a, b, n), "restored settings decide alike");
        char *again = NULL;
        OK(dnd_settings_save(restored, &again, NULL, &error_), "save again");
        expect(strcmp(snapshot, again) == 0, "saving the restored settings gives the same bytes");
        free(a), free(b);
        dnd_string_free(snapshot);
        dnd_string_free(again);
        dnd_prepared_free(before);
        dnd_prepared_free(after);
        dnd_settings_free(restored);
        printf("CHECK restore\n");
    }
    free(last_push);
    dnd_settings_free(settings);
    dnd_shared_free(shared);
    dnd_settings_free(NULL);
    dnd_prepared_free(NULL);
    dnd_string_free(NULL);
    printf("CHECK done\n");
    return 0;
}
