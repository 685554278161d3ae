// The only translation unit that sees Asio: connections, lanes, timeouts and
// shutdown. Requests are read with Beast, converted in beast_message.cpp and
// routed by dispatch.cpp (shared with the in-process fuzz target); everything
// above speaks http::Request/Response.
#include "http/server.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include <sys/resource.h>

#include "core/log.hpp"
#include "http/beast_message.hpp"
#include "http/dispatch.hpp"
#include "http/framing.hpp"
#include "http/metrics.hpp"

namespace http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

// Each keep-alive client holds a descriptor. The soft limit is often 1024
// while the hard one is far higher, so take the hard one (as nginx and Go
// do); if even that runs out, the accept loop pauses instead of spinning.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) core::log::warn("cannot raise the open-file limit");
}

// Beast knows a fixed set of verbs; any other method shares one metrics label
// so a client cannot mint new series by inventing methods.
std::string method_label(const BeastRequest& request) {
  if (request.method() == bhttp::verb::unknown) return "OTHER";
  return std::string(request.method_string());
}

// Runs `work` on `pool` and resumes the awaiting coroutine on its own
// executor, so io threads never block on the database or on hashing.
template <class Work>
asio::awaitable<Response> run_on(asio::thread_pool& pool, Work work) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
      [&pool, executor, work = std::move(work)](auto handler) mutable {
        asio::post(pool, [executor, work = std::move(work), handler = std::move(handler)]() mutable {
          Response response = work();
          asio::dispatch(executor, [handler = std::move(handler), response = std::move(response)]() mutable {
            std::move(handler)(std::move(response));
          });
        });
      },
      asio::use_awaitable);
}

class Server {
 public:
  Server(const ServerOptions& options, const Router& router)
      : options_(options),
        router_(router),
        db_pool_(static_cast<std::size_t>(options.db_threads)),
        write_pool_(static_cast<std::size_t>(options.write_threads)),
        cpu_pool_(static_cast<std::size_t>(options.cpu_threads)) {}

  void run(const std::function<void(int)>& on_listening) {
    raise_descriptor_limit();
    // The accept loop and the signal handler both touch the acceptor, so they
    // share a single-threaded context of their own: on the multi-threaded io_
    // closing the acceptor raced with starting the next accept (a crash on
    // SIGTERM just after a connection came in).
    tcp::acceptor acceptor(accept_io_);
    const auto endpoint = resolve_endpoint();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    on_listening(acceptor.local_endpoint().port());

    asio::co_spawn(accept_io_, accept_loop(acceptor), asio::detached);
    asio::signal_set signals(accept_io_, SIGINT, SIGTERM);
    signals.async_wait([this, &acceptor](const beast::error_code& ec, int) {
      if (!ec) begin_shutdown(acceptor);
    });

    auto keep_running = asio::make_work_guard(io_);  // io_ idles between connections
    std::thread accept_thread([this] { accept_io_.run(); });
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& thread : threads) thread.join();
    accept_thread.join();
    db_pool_.join();
    write_pool_.join();
    cpu_pool_.join();
  }

 private:
  tcp::endpoint resolve_endpoint() {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
    return results.begin()->endpoint();
  }

  void begin_shutdown(tcp::acceptor& acceptor) {
    core::log::info("shutdown requested: finishing in-flight requests");
    draining_ = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_timeout;
    asio::co_spawn(io_, wait_for_drain(deadline), asio::detached);
  }

  asio::awaitable<void> wait_for_drain(std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(io_);
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kNoThrow);
    }
    if (in_flight_ > 0) core::log::warn("shutdown timeout: abandoning in-flight requests");
    accept_io_.stop();
    io_.stop();
  }

  // Runs on accept_io_; the connections it accepts are served on io_.
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    asio::steady_timer pause(accept_io_);
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(io_, kNoThrow);
      if (ec) {
        if (!acceptor.is_open()) break;
        // e.g. EMFILE: keep serving the connections we have, without spinning.
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io_, serve_connection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve_connection(tcp::socket socket) {
    beast::error_code ec;
    const auto peer = socket.remote_endpoint(ec).address().to_string();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    while (!draining_) {
      // A quiet keep-alive connection may idle longer than a request may take to arrive.
      if (buffer.size() == 0) {
        stream.expires_after(options_.idle_timeout);
        auto [read_ec, bytes] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
        if (read_ec) break;
        buffer.commit(bytes);
      }
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      stream.expires_after(options_.read_timeout);
      if (!co_await read_header_bytes(stream, buffer)) break;
      if (auto refusal = refuse_raw_header(buffered(buffer), options_.middleware)) {
        co_await write(stream, std::move(*refusal), false);
        break;
      }
      auto [read_ec, ignored_bytes] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
      if (read_ec == bhttp::error::end_of_stream || read_ec == beast::error::timeout ||
          read_ec == asio::error::eof || read_ec == asio::error::connection_reset) {
        break;
      }
      if (read_ec) {
        co_await write(stream, read_error_response(read_ec, options_.middleware), false);
        break;
      }
      // No timer runs while the handler works: connections have no strand
      // (Boost 1.81's strands crashed under this coroutine + pool pattern, see
      // docs/ARCHITECTURE.md), so a timeout firing on another io thread must
      // not be able to close the socket while this coroutine resumes.
      stream.expires_never();
      ++in_flight_;
      const bool keep_alive = co_await handle(stream, parser.get(), peer);
      --in_flight_;
      if (!keep_alive) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  static std::string_view buffered(const beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
  }

  // Reads until `buffer` holds the next request's whole header, or more
  // bytes than the header limit (Beast's parser then answers 431), so the
  // raw lines can be checked before Beast unfolds them. False when the peer
  // left or the read timer ran out.
  asio::awaitable<bool> read_header_bytes(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    while (header_end(buffered(buffer)) == std::string_view::npos && buffer.size() <= options_.max_header_bytes) {
      auto [ec, bytes] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (ec) co_return false;
      buffer.commit(bytes);
    }
    co_return true;
  }

  asio::awaitable<bool> handle(beast::tcp_stream& stream, BeastRequest& beast_request,
                               const std::string& peer) {
    const auto started = std::chrono::steady_clock::now();
    const bool wants_keep_alive = beast_request.keep_alive();
    const auto metric_method = method_label(beast_request);
    auto accepted = accept_request(beast_request, peer, options_.middleware);
    if (auto* refusal = std::get_if<Response>(&accepted)) {
      co_await write(stream, std::move(*refusal), false);
      co_return false;
    }
    auto& request = std::get<Request>(accepted);
    auto routed = route_request(router_, request, options_.middleware);
    Response response;
    if (routed.answer) {
      response = std::move(*routed.answer);
    } else {
      response = co_await run_on_lane(*routed.route, request);
    }
    finish_response(response, request, options_.middleware);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    metrics().observe_request(routed.name, metric_method, response.status,
                              std::chrono::duration<double>(elapsed).count());
    log_access(request, routed.name, response, elapsed);
    // Decided after the work: a shutdown that began meanwhile closes the connection.
    const bool keep_alive = wants_keep_alive && !draining_;
    co_return co_await write(stream, std::move(response), keep_alive) && keep_alive;
  }

  asio::awaitable<Response> run_on_lane(const Route& route, Request& request) {
    switch (route.choose_lane ? route.choose_lane(request) : route.lane) {
      case Lane::io:
        co_return router_.run(route, request);
      case Lane::db:
        co_return co_await run_on(db_pool_, [&] { return router_.run(route, request); });
      case Lane::write:
        co_return co_await run_on(write_pool_, [&] { return router_.run(route, request); });
      case Lane::cpu:
        co_return co_await run_on_cpu(route, request);
    }
    co_return Response::error(500, "internal_error", "Something went wrong on our side.");
  }

  // The hashing pool is small; a bounded queue turns a login storm into
  // quick 503s instead of an ever-growing backlog.
  asio::awaitable<Response> run_on_cpu(const Route& route, Request& request) {
    if (cpu_queued_.fetch_add(1) >= options_.cpu_queue_limit) {
      --cpu_queued_;
      auto busy = Response::error(503, "server_busy", "Too many password checks at once; retry shortly.");
      busy.set_header("Retry-After", "1");
      co_return busy;
    }
    auto response = co_await run_on(cpu_pool_, [&] { return router_.run(route, request); });
    --cpu_queued_;
    co_return response;
  }

  asio::awaitable<bool> write(beast::tcp_stream& stream, Response response, bool keep_alive) {
    auto message = to_beast(std::move(response), keep_alive);
    stream.expires_after(options_.read_timeout);
    auto [ec, bytes] = co_await bhttp::async_write(stream, message, kNoThrow);
    co_return !ec;
  }

  const ServerOptions& options_;
  const Router& router_;
  asio::io_context io_;
  asio::io_context accept_io_{1};
  asio::thread_pool db_pool_;
  asio::thread_pool write_pool_;
  asio::thread_pool cpu_pool_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> cpu_queued_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace

void serve(const ServerOptions& options, const Router& router,
           const std::function<void(int port)>& on_listening) {
  Server server(options, router);
  server.run(on_listening);
}

}  // namespace http
