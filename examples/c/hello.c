/*
 * hello.c: log in, say hello in a chat, print the next events as JSON lines.
 *
 *   usage: hello URL LOGIN PASSWORD CHAT_ID [EVENTS]
 *
 * Build (from the crate's root, after `cargo build --release --features ffi`):
 *   cc -Iinclude examples/c/hello.c target/release/libtrueconf_bot.a \
 *      -lpthread -ldl -lm -o hello
 */
#include "trueconf_bot.h"

#include <stdio.h>
#include <stdlib.h>

/* Prints the calling thread's last error and returns 1. */
static int report(const char *what, TcbStatus status) {
    char *message = NULL;
    uint32_t code = 0;
    tcb_last_error_message(&message);
    tcb_last_error_code(&code);
    if (code != 0)
        fprintf(stderr, "%s: status %d, server error %u: %s\n", what, (int)status, code, message);
    else
        fprintf(stderr, "%s: status %d: %s\n", what, (int)status, message);
    tcb_string_free(message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s URL LOGIN PASSWORD CHAT_ID [EVENTS]\n", argv[0]);
        return 2;
    }
    int wanted = argc > 5 ? atoi(argv[5]) : 10;
    TcbClient *client = NULL;
    TcbStatus status;
    int exit_code = 0;

    if ((status = tcb_client_new(argv[1], &client)) != TCB_STATUS_OK)
        return report("new", status);
    tcb_client_set_credentials(client, argv[2], argv[3]);
    tcb_client_set_timeouts(client, 10000, 10000, 10000);
    if ((status = tcb_client_connect(client)) != TCB_STATUS_OK) {
        exit_code = report("connect", status);
        goto done;
    }

    char *message_id = NULL;
    status = tcb_client_send_message(client, argv[4], "Hello from **C**", "markdown", NULL,
                                     &message_id);
    if (status != TCB_STATUS_OK) {
        exit_code = report("send", status);
        goto done;
    }
    printf("{\"sent\":\"%s\"}\n", message_id);
    fflush(stdout);
    tcb_string_free(message_id);

    for (int i = 0; i < wanted; i++) {
        char *event = NULL;
        status = tcb_client_next_event(client, 60000, &event);
        if (status == TCB_STATUS_TIMEOUT)
            break; /* a quiet minute: stop */
        if (status != TCB_STATUS_OK) {
            exit_code = report("next event", status);
            break;
        }
        printf("%s\n", event); /* {"event":"new_message",...} */
        fflush(stdout);
        tcb_string_free(event);
    }

done:
    tcb_client_free(client); /* closes the connection too */
    return exit_code;
}
