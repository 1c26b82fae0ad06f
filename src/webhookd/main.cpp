// kaireon_webhookd - delivers kaireon's event outbox to webhook endpoints
// (docs/webhooks.md).
//
//   kaireon_webhookd --dsn "host=... dbname=... user=webhookd" [--worker NAME]
//                    [--batch N] [--lease S] [--timeout S] [--poll S] [--once]
//
// The loop: kaireon.plan_webhook_deliveries() fans new events out into
// deliveries; kaireon.claim_webhook_deliveries() leases the due ones (at
// most one per endpoint, signed by the database); each is POSTed (all of a
// batch at once, libcurl multi) and its outcome goes to
// kaireon.finish_webhook_delivery(). Every statement runs in autocommit:
// no transaction is open during an HTTP request. When nothing is due it
// waits for NOTIFY kaireon_events or --poll seconds (retries come due
// without a notification). SIGTERM/SIGINT: requests in flight complete and
// are recorded, claims not yet sent are released, exit 0. A crash leaves
// leases that expire: those deliveries are sent again with the same event
// id (at least once).
//
// One line per attempt on stderr; never a secret, a signature or a body.
#include <curl/curl.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

struct Options {
    std::string dsn;
    std::string worker;
    int batch = 10;       // deliveries claimed at once (at most one per endpoint)
    int lease = 60;       // seconds a claim is held
    int timeout = 10;     // seconds per HTTP request
    double poll = 1.0;    // seconds between looks when idle
    bool once = false;    // deliver what is due now, then exit
};

void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_line(const char* format, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, sizeof buffer, format, args);
    va_end(args);
    std::fprintf(stderr, "kaireon_webhookd: %s\n", buffer);
}

[[noreturn]] void usage(const char* error) {
    if (error) std::fprintf(stderr, "kaireon_webhookd: %s\n", error);
    std::fprintf(stderr,
                 "usage: kaireon_webhookd --dsn CONNINFO [--worker NAME] [--batch N] [--lease SECONDS]\n"
                 "                        [--timeout SECONDS] [--poll SECONDS] [--once]\n");
    std::exit(2);
}

int int_option(const char* name, const char* value, int low, int high) {
    char* end = nullptr;
    errno = 0;
    long parsed = std::strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || parsed < low || parsed > high) {
        std::string message = std::string(name) + " must be an integer from " + std::to_string(low) + " to " +
                              std::to_string(high);
        usage(message.c_str());
    }
    return static_cast<int>(parsed);
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage((arg + " needs a value").c_str());
            return argv[++i];
        };
        if (arg == "--dsn") {
            options.dsn = value();
        } else if (arg == "--worker") {
            options.worker = value();
        } else if (arg == "--batch") {
            options.batch = int_option("--batch", value(), 1, 1000);
        } else if (arg == "--lease") {
            options.lease = int_option("--lease", value(), 1, 3600);
        } else if (arg == "--timeout") {
            options.timeout = int_option("--timeout", value(), 1, 600);
        } else if (arg == "--poll") {
            const char* text = value();
            char* end = nullptr;
            options.poll = std::strtod(text, &end);
            if (end == text || *end != '\0' || !(options.poll >= 0.01 && options.poll <= 3600))
                usage("--poll must be a number of seconds from 0.01 to 3600");
        } else if (arg == "--once") {
            options.once = true;
        } else if (arg == "--help" || arg == "-h") {
            usage(nullptr);
        } else {
            usage(("unknown argument " + arg).c_str());
        }
    }
    if (options.dsn.empty()) usage("--dsn is required");
    if (options.worker.empty()) {
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
        options.worker = std::string(host) + ":" + std::to_string(getpid());
    }
    // The claim's lease must outlive a request, or another worker could send it again meanwhile.
    if (options.lease <= options.timeout) usage("--lease must be longer than --timeout");
    return options;
}

// ---------------------------------------------------------------------------
// The database: a libpq connection, every statement in autocommit.

struct PgConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, PgResultDeleter>;

class DbError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Claim {
    std::string tenant_id;
    std::string endpoint_id;
    std::string event_id;
    std::string attempt;
    std::string url;
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
    std::string event_type;
};

class Db {
public:
    bool connect(const std::string& dsn) {
        const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
        const char* values[] = {dsn.c_str(), "kaireon_webhookd", nullptr};
        conn_.reset(PQconnectdbParams(keywords, values, 1));
        if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
            log_line("cannot connect: %s", conn_ ? one_line(PQerrorMessage(conn_.get())).c_str() : "out of memory");
            conn_.reset();
            return false;
        }
        try {
            exec("LISTEN kaireon_events", {});
        } catch (const DbError& e) {
            log_line("LISTEN failed: %s", e.what());
            conn_.reset();
            return false;
        }
        return true;
    }
    bool connected() const { return conn_ != nullptr; }
    void drop() { conn_.reset(); }

    // exec runs sql with text parameters (nullopt: NULL) and returns the result; throws DbError.
    Result exec(const char* sql, const std::vector<std::optional<std::string>>& params) {
        std::vector<const char*> values;
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        Result result(PQexecParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                                   nullptr, 0));
        const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            std::string message = one_line(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_.get()));
            if (PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();
            throw DbError(message);
        }
        return result;
    }

    // wait blocks until a notification arrives, `seconds` pass or a signal
    // comes; drains the notifications.
    void wait(double seconds) {
        const int fd = PQsocket(conn_.get());
        if (fd < 0) {
            conn_.reset();
            return;
        }
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(seconds * 1000));
        if (ready > 0) {
            if (PQconsumeInput(conn_.get()) == 0) {
                log_line("connection lost: %s", one_line(PQerrorMessage(conn_.get())).c_str());
                conn_.reset();
                return;
            }
            while (PGnotify* notify = PQnotifies(conn_.get())) PQfreemem(notify);
        }
    }

    static std::string one_line(const char* text) {
        std::string s = text ? text : "";
        for (char& c : s)
            if (c == '\n' || c == '\r') c = ' ';
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }

private:
    std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

// ---------------------------------------------------------------------------
// HTTP: one easy handle per claimed delivery, all of a batch in one multi.

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

struct Request {
    Claim claim;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    char error[CURL_ERROR_SIZE] = {};
    std::chrono::steady_clock::time_point started;
    ~Request() {
        if (easy) curl_easy_cleanup(easy);
        if (header_list) curl_slist_free_all(header_list);
    }
};

std::unique_ptr<Request> make_request(Claim claim, const Options& options) {
    auto request = std::make_unique<Request>();
    request->claim = std::move(claim);
    CURL* easy = curl_easy_init();
    if (!easy) throw std::runtime_error("curl_easy_init failed");
    request->easy = easy;
    for (const auto& header : request->claim.headers)
        request->header_list = curl_slist_append(request->header_list, header.c_str());
    request->header_list = curl_slist_append(request->header_list, "Expect:");  // no 100-continue round trip
    const Claim& c = request->claim;
    curl_easy_setopt(easy, CURLOPT_URL, c.url.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c.body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->header_list);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "kaireon-webhookd/0.14");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout) * 1000L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(options.timeout, 10)) * 1000L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer (3xx: failed), never followed
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, request->error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, request.get());
    return request;
}

// ---------------------------------------------------------------------------
// The deliverer.

class Deliverer {
public:
    explicit Deliverer(Options options) : options_(std::move(options)) {}

    int run() {
        log_line("worker %s starting (batch %d, lease %ds, timeout %ds)", options_.worker.c_str(), options_.batch,
                 options_.lease, options_.timeout);
        int reconnect_delay = 1;
        while (!g_stop) {
            if (!db_.connected()) {
                if (!db_.connect(options_.dsn)) {
                    if (options_.once) return 1;
                    sleep_interruptible(reconnect_delay);
                    reconnect_delay = std::min(reconnect_delay * 2, 30);
                    continue;
                }
                reconnect_delay = 1;
            }
            try {
                plan();
                std::vector<Claim> claims = claim();
                if (claims.empty()) {
                    if (options_.once) break;
                    db_.wait(options_.poll);
                    continue;
                }
                deliver(std::move(claims));
            } catch (const DbError& e) {
                log_line("database error: %s", e.what());
                if (options_.once) return 1;
                if (db_.connected()) sleep_interruptible(1);  // an error, not a lost connection: do not spin
            }
        }
        log_line("worker %s stopping", options_.worker.c_str());
        return 0;
    }

private:
    void plan() {
        // Until the outbox is caught up (1,000 events per transaction).
        for (int round = 0; round < 100 && !g_stop; ++round) {
            Result r = db_.exec("SELECT kaireon.plan_webhook_deliveries(1000)", {});
            if (std::atoi(PQgetvalue(r.get(), 0, 0)) == 0) break;
        }
    }

    std::vector<Claim> claim() {
        Result r = db_.exec(
            "SELECT tenant_id, endpoint_id, event_id, attempt, url, body, headers::text "
            "FROM kaireon.claim_webhook_deliveries($1, $2::int, $3::int)",
            {options_.worker, std::to_string(options_.batch), std::to_string(options_.lease)});
        std::vector<Claim> claims;
        for (int row = 0; row < PQntuples(r.get()); ++row) {
            Claim c;
            c.tenant_id = PQgetvalue(r.get(), row, 0);
            c.endpoint_id = PQgetvalue(r.get(), row, 1);
            c.event_id = PQgetvalue(r.get(), row, 2);
            c.attempt = PQgetvalue(r.get(), row, 3);
            c.url = PQgetvalue(r.get(), row, 4);
            c.body = PQgetvalue(r.get(), row, 5);
            const auto headers = nlohmann::json::parse(PQgetvalue(r.get(), row, 6));
            for (const auto& [name, value] : headers.items()) {
                c.headers.push_back(name + ": " + value.get<std::string>());
                if (name == "Kaireon-Event-Type") c.event_type = value.get<std::string>();
            }
            claims.push_back(std::move(c));
        }
        return claims;
    }

    void deliver(std::vector<Claim> claims) {
        if (g_stop) {
            for (const auto& c : claims) release(c);
            return;
        }
        std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(), curl_multi_cleanup);
        if (!multi) throw std::runtime_error("curl_multi_init failed");
        std::vector<std::unique_ptr<Request>> requests;
        for (auto& c : claims) {
            requests.push_back(make_request(std::move(c), options_));
            requests.back()->started = std::chrono::steady_clock::now();
            curl_multi_add_handle(multi.get(), requests.back()->easy);
        }
        int running = 0;
        do {
            curl_multi_perform(multi.get(), &running);
            int queued = 0;
            while (CURLMsg* message = curl_multi_info_read(multi.get(), &queued)) {
                if (message->msg != CURLMSG_DONE) continue;
                Request* request = nullptr;
                curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&request));
                const CURLcode code = message->data.result;
                curl_multi_remove_handle(multi.get(), message->easy_handle);
                finish(*request, code);
            }
            if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 200, nullptr);
        } while (running > 0);
    }

    void finish(Request& request, CURLcode code) {
        const Claim& c = request.claim;
        const auto elapsed = std::chrono::steady_clock::now() - request.started;
        const long duration_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
        std::optional<std::string> status;
        std::optional<std::string> error;
        long http_status = 0;
        if (code == CURLE_OK) {
            curl_easy_getinfo(request.easy, CURLINFO_RESPONSE_CODE, &http_status);
            status = std::to_string(http_status);
        } else {
            std::string text = curl_easy_strerror(code);
            if (request.error[0] != '\0') text += std::string(": ") + request.error;
            error = Db::one_line(text.c_str());
        }
        std::string outcome = "unrecorded";
        try {
            Result r = db_.exec(
                "SELECT kaireon.finish_webhook_delivery($1, $2::bigint, $3::bigint, $4::int, $5, $6::int, $7, "
                "$8::int)::text",
                {c.tenant_id, c.endpoint_id, c.event_id, c.attempt, options_.worker, status, error,
                 std::to_string(duration_ms)});
            const auto answer = nlohmann::json::parse(PQgetvalue(r.get(), 0, 0));
            if (!answer.value("applied", false)) {
                outcome = "stale";
            } else {
                const std::string state = answer.value("state", "");
                outcome = state == "pending" ? "retry" : state;
            }
        } catch (const DbError& e) {
            // The lease will expire and the delivery be sent again: at least once.
            log_line("could not record the attempt: %s", e.what());
        }
        log_line("worker=%s tenant=%s endpoint=%s event=%s type=%s attempt=%s %s%s duration_ms=%ld outcome=%s",
                 options_.worker.c_str(), c.tenant_id.c_str(), c.endpoint_id.c_str(), c.event_id.c_str(),
                 c.event_type.c_str(), c.attempt.c_str(), status ? "status=" : "error=",
                 status ? status->c_str() : ("\"" + *error + "\"").c_str(), duration_ms, outcome.c_str());
    }

    void release(const Claim& c) {
        try {
            db_.exec("SELECT kaireon.release_webhook_delivery($1, $2::bigint, $3::bigint, $4::int, $5)",
                     {c.tenant_id, c.endpoint_id, c.event_id, c.attempt, options_.worker});
        } catch (const DbError& e) {
            log_line("could not release a claim: %s", e.what());
        }
    }

    static void sleep_interruptible(int seconds) {
        for (int i = 0; i < seconds * 10 && !g_stop; ++i) usleep(100 * 1000);
    }

    Options options_;
    Db db_;
};

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a wait returns at once
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_line("curl_global_init failed");
        return 1;
    }
    int rc = 1;
    try {
        rc = Deliverer(std::move(options)).run();
    } catch (const std::exception& e) {
        log_line("fatal: %s", e.what());
        rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
