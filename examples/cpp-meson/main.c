#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

int main(void) {
    signal(SIGTERM, stop);
    const char *port = getenv("PORT");
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port ? atoi(port) : 8080)};
    bind(server, (struct sockaddr *)&addr, sizeof addr);
    listen(server, 16);
    const char *reply = "HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\nhello from c\r\n";
    for (;;) {
        int client = accept(server, NULL, NULL);
        char buf[1024];
        (void)read(client, buf, sizeof buf);
        (void)write(client, reply, strlen(reply));
        close(client);
    }
}
