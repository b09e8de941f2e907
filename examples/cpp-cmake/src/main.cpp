#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

int main() {
    std::signal(SIGTERM, [](int) { std::_Exit(0); });
    const char* port = std::getenv("PORT");
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port ? std::atoi(port) : 8080);
    bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(server, 16);
    const std::string reply = "HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\nhello from c++\r\n";
    for (;;) {
        int client = accept(server, nullptr, nullptr);
        char buf[1024];
        (void)read(client, buf, sizeof buf);
        (void)write(client, reply.data(), reply.size());
        close(client);
    }
}
