/*
 * A C bot against the embedded emulator, driven by tests/ffi.rs.
 *
 * usage: smoke URL LOGIN PASSWORD PEER_USER_ID WORK_DIR
 *
 * Prints one line per step on stdout (USER, CHAT, SENT, EVENT, REPLIED,
 * FILE_SENT, DOWNLOADED, FILE_REPLY, FILE_PLAIN, APIERR, DONE); the Rust
 * test plays the human (PEER_USER_ID) when it reads SENT. Any unexpected
 * status ends the program with exit status 1 and the library's last error
 * on stderr.
 */
#include "trueconf_bot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 30000u

static void fail(const char *what, TcbStatus status) {
    char *message = NULL;
    uint32_t code = 0;
    tcb_last_error_message(&message);
    tcb_last_error_code(&code);
    fprintf(stderr, "FAIL %s: status %d, api code %u: %s\n", what, (int)status, code,
            message ? message : "(no message)");
    tcb_string_free(message);
    exit(1);
}

/* Runs a call that must succeed. */
#define CHECK(call)                                        \
    do {                                                   \
        TcbStatus check_status_ = (call);                  \
        if (check_status_ != TCB_STATUS_OK)                \
            fail(#call, check_status_);                    \
    } while (0)

/* Runs a call that must fail with `expected`. */
#define EXPECT_STATUS(expected, call)                                              \
    do {                                                                           \
        TcbStatus expect_status_ = (call);                                         \
        if (expect_status_ != (expected)) {                                        \
            fprintf(stderr, "FAIL %s: status %d, expected %d\n", #call,            \
                    (int)expect_status_, (int)(expected));                         \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static void require(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        exit(1);
    }
}

/* The string value of "key" in a flat JSON object (enough for ids). */
static char *json_string(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(json, pattern);
    if (!start)
        return NULL;
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (!end)
        return NULL;
    size_t len = (size_t)(end - start);
    char *out = malloc(len + 1);
    require(out != NULL, "malloc");
    memcpy(out, start, len);
    out[len] = '\0';
    return out;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    require(f != NULL, "open a file to read");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(size > 0 ? (size_t)size : 1);
    require(data != NULL, "malloc");
    *len = fread(data, 1, (size_t)size, f);
    fclose(f);
    return data;
}

/* The last error's message must say `needle`; the API code must be `code`. */
static void expect_last_error(const char *needle, uint32_t code) {
    char *message = NULL;
    uint32_t got = 99;
    CHECK(tcb_last_error_message(&message));
    CHECK(tcb_last_error_code(&got));
    require(message != NULL, "a last error message after a failure");
    if (!strstr(message, needle) || got != code) {
        fprintf(stderr, "FAIL last error: %u %s (wanted %u, \"%s\")\n", got, message, code,
                needle);
        exit(1);
    }
    tcb_string_free(message);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s URL LOGIN PASSWORD PEER_USER_ID WORK_DIR\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *login = argv[2], *password = argv[3], *peer = argv[4],
               *work = argv[5];
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* A CA file that does not exist is refused at once and leaves the
       configuration as it was: the handle still connects. */
    TcbClient *refused = NULL;
    CHECK(tcb_client_new(url, &refused));
    CHECK(tcb_client_set_credentials(refused, login, password));
    EXPECT_STATUS(TCB_STATUS_CONFIG, tcb_client_set_ca_file(refused, "/nonexistent/ca.pem"));
    expect_last_error("/nonexistent/ca.pem", 0);
    CHECK(tcb_client_connect(refused));
    tcb_client_free(refused);

    TcbClient *client = NULL;
    CHECK(tcb_client_new(url, &client));
    CHECK(tcb_client_set_credentials(client, login, password));
    CHECK(tcb_client_set_accept_invalid_certs(client, false));
    CHECK(tcb_client_set_timeouts(client, WAIT_MS, WAIT_MS, WAIT_MS));
    /* Requests before connecting are a state error. */
    EXPECT_STATUS(TCB_STATUS_STATE,
                  tcb_client_send_message(client, "chat", "x", NULL, NULL, NULL));
    expect_last_error("tcb_client_connect", 0);
    CHECK(tcb_client_connect(client));
    EXPECT_STATUS(TCB_STATUS_STATE, tcb_client_set_token(client, "late"));

    char *user_id = NULL;
    CHECK(tcb_client_user_id(client, &user_id));
    printf("USER %s\n", user_id);
    tcb_string_free(user_id);

    /* A success leaves no last error. */
    char *no_error = (char *)1;
    CHECK(tcb_last_error_message(&no_error));
    require(no_error == NULL, "no last error after a success");

    /* The generic call: a private chat with the peer. */
    char payload[512];
    snprintf(payload, sizeof payload, "{\"userId\":\"%s\"}", peer);
    char *response = NULL;
    CHECK(tcb_client_call(client, "createP2PChat", payload, &response));
    char *chat_id = json_string(response, "chatId");
    require(chat_id != NULL, "createP2PChat answers a chatId");
    tcb_string_free(response);
    printf("CHAT %s\n", chat_id);

    char *message_id = NULL;
    CHECK(tcb_client_send_message(client, chat_id, "hello from *C*", "markdown", NULL,
                                  &message_id));
    printf("SENT %s\n", message_id);

    /* The test answers as the peer; wait for that message event. */
    tcb_string_free(message_id);
    char *peer_message_id = NULL;
    for (int i = 0; i < 20 && !peer_message_id; i++) {
        char *event = NULL;
        CHECK(tcb_client_next_event(client, WAIT_MS, &event));
        if (strstr(event, "\"event\":\"new_message\"") && strstr(event, "hi from alice")) {
            printf("EVENT %s\n", event);
            peer_message_id = json_string(event, "messageId");
            require(peer_message_id != NULL, "the event carries a messageId");
        }
        tcb_string_free(event);
    }
    require(peer_message_id != NULL, "the peer's reply arrives as a new_message event");

    /* Nothing else is waiting: a zero timeout says so at once. */
    char *event = NULL;
    TcbStatus drained;
    while ((drained = tcb_client_next_event(client, 0, &event)) == TCB_STATUS_OK)
        tcb_string_free(event);
    require(drained == TCB_STATUS_TIMEOUT && event == NULL, "TIMEOUT when no event");

    /* A reply to the peer's message, by its id from the event. */
    char *reply_id = NULL;
    CHECK(tcb_client_send_message(client, chat_id, "a reply", "text", peer_message_id,
                                  &reply_id));
    printf("REPLIED %s %s\n", reply_id, peer_message_id);
    tcb_string_free(reply_id);

    /* Upload a file, then download it again. */
    char in_path[1024], out_dir[1024];
    snprintf(in_path, sizeof in_path, "%s/report.bin", work);
    snprintf(out_dir, sizeof out_dir, "%s/downloads", work);
    size_t sent_len = 0;
    char *sent = read_file(in_path, &sent_len);
    char *file_message_id = NULL, *file_id = NULL;
    CHECK(tcb_client_send_file(client, chat_id, in_path, "the report", &file_message_id,
                               &file_id));
    require(file_id != NULL, "sendFile reports the file id");
    printf("FILE_SENT %s %s\n", file_message_id, file_id);
    char *downloaded = NULL;
    CHECK(tcb_client_download_file(client, file_id, out_dir, &downloaded));
    size_t got_len = 0;
    char *got = read_file(downloaded, &got_len);
    require(got_len == sent_len && memcmp(got, sent, sent_len) == 0,
            "the downloaded bytes are the uploaded bytes");
    printf("DOWNLOADED %s %zu\n", downloaded, got_len);
    free(sent);
    free(got);
    tcb_string_free(downloaded);
    tcb_string_free(file_message_id);
    tcb_string_free(file_id);

    /* A file with a preview image and a markdown caption, as a reply to the
       peer's message. */
    char preview_path[1024], missing_path[1024];
    snprintf(preview_path, sizeof preview_path, "%s/preview.png", work);
    snprintf(missing_path, sizeof missing_path, "%s/missing.png", work);
    TcbSendFileOptions options = {
        .struct_size = sizeof options,
        .caption = "the *preview*",
        .caption_parse_mode = "markdown",
        .reply_to = peer_message_id,
        .preview_path = preview_path,
    };
    char *reply_file_message_id = NULL, *reply_file_id = NULL;
    CHECK(tcb_client_send_file_with_options(client, chat_id, in_path, &options,
                                            &reply_file_message_id, &reply_file_id));
    require(reply_file_message_id != NULL && reply_file_id != NULL,
            "sendFile with options reports the message and file ids");
    printf("FILE_REPLY %s %s %s\n", reply_file_message_id, reply_file_id, peer_message_id);
    tcb_string_free(reply_file_message_id);
    tcb_string_free(reply_file_id);

    /* No options at all: a plain file. */
    char *plain_file_id = NULL;
    CHECK(tcb_client_send_file_with_options(client, chat_id, in_path, NULL, NULL,
                                            &plain_file_id));
    require(plain_file_id != NULL, "sendFile without options reports the file id");
    printf("FILE_PLAIN %s\n", plain_file_id);
    tcb_string_free(plain_file_id);

    /* Options as a newer header would lay them out: a later field left zero
       is fine; set, this library refuses it rather than ignore it. */
    struct {
        TcbSendFileOptions known;
        const char *later;
    } newer = {.known = {.struct_size = sizeof newer}, .later = NULL};
    CHECK(tcb_client_send_file_with_options(client, chat_id, in_path, &newer.known, NULL,
                                            NULL));
    newer.later = "set";
    char *refused_message_id = (char *)1, *refused_file_id = (char *)1;
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_file_with_options(client, chat_id, in_path, &newer.known,
                                                    &refused_message_id, &refused_file_id));
    require(refused_message_id == NULL && refused_file_id == NULL,
            "no ids when the options are refused");
    expect_last_error("does not know", 0);

    /* Refused before anything is uploaded: a size from no header at all, an
       unknown parse mode, an empty or missing preview. */
    TcbSendFileOptions bad = {.struct_size = 8};
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_file_with_options(client, chat_id, in_path, &bad, NULL, NULL));
    expect_last_error("struct_size", 0);
    bad = options;
    bad.caption_parse_mode = "bbcode";
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_file_with_options(client, chat_id, in_path, &bad, NULL, NULL));
    expect_last_error("parse_mode", 0);
    bad = options;
    bad.preview_path = "";
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_file_with_options(client, chat_id, in_path, &bad, NULL, NULL));
    expect_last_error("preview_path", 0);
    bad = options;
    bad.preview_path = missing_path;
    EXPECT_STATUS(TCB_STATUS_IO, tcb_client_send_file_with_options(
                                     client, chat_id, in_path, &bad, &refused_message_id,
                                     &refused_file_id));
    require(refused_message_id == NULL && refused_file_id == NULL,
            "no ids when the preview is missing");
    expect_last_error("missing.png", 0);
    free(peer_message_id);

    /* An API error: its code and message. */
    EXPECT_STATUS(TCB_STATUS_API,
                  tcb_client_send_message(client, "no-such-chat", "x", NULL, NULL, NULL));
    char *api_message = NULL;
    uint32_t api_code = 0;
    CHECK(tcb_last_error_message(&api_message));
    CHECK(tcb_last_error_code(&api_code));
    printf("APIERR %u %s\n", api_code, api_message);
    tcb_string_free(api_message);
    EXPECT_STATUS(TCB_STATUS_API, tcb_client_call(client, "getChatByID",
                                                  "{\"chatId\":\"no-such-chat\"}", &response));
    require(response == NULL, "no response on failure");
    expect_last_error("getChatByID", 304);

    /* A file the server does not know: an API error too, and no file. */
    char *missing = NULL;
    EXPECT_STATUS(TCB_STATUS_API,
                  tcb_client_download_file(client, "no-such-file", out_dir, &missing));
    require(missing == NULL, "no path on failure");
    expect_last_error("getFileInfo", 308);

    /* Caller mistakes are errors, not crashes. */
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_message(client, NULL, "x", NULL, NULL, NULL));
    expect_last_error("chat_id must not be NULL", 0);
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_message(client, chat_id, "x", "bbcode", NULL, NULL));
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_send_message(client, chat_id, "\xff\xfe", NULL, NULL, NULL));
    expect_last_error("not valid UTF-8", 0);
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT,
                  tcb_client_call(client, "getChats", "{not json", &response));
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT, tcb_client_user_id(NULL, &user_id));
    EXPECT_STATUS(TCB_STATUS_INVALID_ARGUMENT, tcb_last_error_code(NULL));

    /* Close, then everything says CLOSED; closing twice is fine. */
    CHECK(tcb_client_close(client));
    CHECK(tcb_client_close(client));
    EXPECT_STATUS(TCB_STATUS_CLOSED,
                  tcb_client_send_message(client, chat_id, "late", NULL, NULL, NULL));
    EXPECT_STATUS(TCB_STATUS_CLOSED, tcb_client_next_event(client, 0, &event));
    free(chat_id);
    tcb_client_free(client);
    tcb_client_free(NULL);
    tcb_string_free(NULL);

    printf("DONE\n");
    return 0;
}
