#include "db/unnamed_statements.hpp"

#include <soci/postgresql/soci-postgresql.h>

#include <memory>

// Debian's SOCI exports none of its PostgreSQL backend classes (built with
// hidden visibility), so they cannot be subclassed: these wrappers hold the
// real backends, made through their factory, and forward every call through
// the virtual interface, changing only the statement type prepare() is given.
namespace db {

namespace {

namespace details = soci::details;

class UnnamedStatementBackend : public details::statement_backend {
 public:
  explicit UnnamedStatementBackend(details::statement_backend* real) : real_(real) {}

  // A one-time query in SOCI's backend keeps its text and runs it with
  // PQexecParams on every execute(), so a cached statement still runs again
  // and again.
  void prepare(const std::string& query, details::statement_type) override {
    real_->prepare(query, details::st_one_time_query);
  }

  void alloc() override { real_->alloc(); }
  void clean_up() override { real_->clean_up(); }
  exec_fetch_result execute(int number) override { return real_->execute(number); }
  exec_fetch_result fetch(int number) override { return real_->fetch(number); }
  long long get_affected_rows() override { return real_->get_affected_rows(); }
  int get_number_of_rows() override { return real_->get_number_of_rows(); }
  std::string get_parameter_name(int index) const override {
    return real_->get_parameter_name(index);
  }
  std::string rewrite_for_procedure_call(const std::string& query) override {
    return real_->rewrite_for_procedure_call(query);
  }
  int prepare_for_describe() override { return real_->prepare_for_describe(); }
  void describe_column(int column, soci::data_type& type, std::string& name) override {
    real_->describe_column(column, type, name);
  }
  details::standard_into_type_backend* make_into_type_backend() override {
    return real_->make_into_type_backend();
  }
  details::standard_use_type_backend* make_use_type_backend() override {
    return real_->make_use_type_backend();
  }
  details::vector_into_type_backend* make_vector_into_type_backend() override {
    return real_->make_vector_into_type_backend();
  }
  details::vector_use_type_backend* make_vector_use_type_backend() override {
    return real_->make_vector_use_type_backend();
  }

 private:
  std::unique_ptr<details::statement_backend> real_;
};

class UnnamedSessionBackend : public details::session_backend {
 public:
  explicit UnnamedSessionBackend(details::session_backend* real) : real_(real) {}

  details::statement_backend* make_statement_backend() override {
    return new UnnamedStatementBackend(real_->make_statement_backend());
  }

  bool is_connected() override { return real_->is_connected(); }
  void begin() override { real_->begin(); }
  void commit() override { real_->commit(); }
  void rollback() override { real_->rollback(); }
  std::string get_dummy_from_table() const override { return real_->get_dummy_from_table(); }
  std::string get_backend_name() const override { return real_->get_backend_name(); }
  details::rowid_backend* make_rowid_backend() override { return real_->make_rowid_backend(); }
  details::blob_backend* make_blob_backend() override { return real_->make_blob_backend(); }

  details::session_backend* real() const { return real_.get(); }

 private:
  std::unique_ptr<details::session_backend> real_;
};

class UnnamedBackendFactory : public soci::backend_factory {
 public:
  details::session_backend* make_session(
      const soci::connection_parameters& parameters) const override {
    // Through the exported C entry point: a call on soci::postgresql itself
    // is devirtualised into a symbol the library does not export.
    return new UnnamedSessionBackend(soci::factory_postgresql()->make_session(parameters));
  }
};

}  // namespace

const soci::backend_factory& postgresql_unnamed_statements() {
  static const UnnamedBackendFactory factory;
  return factory;
}

soci::details::session_backend* unwrapped(soci::details::session_backend* backend) {
  const auto* wrapper = dynamic_cast<const UnnamedSessionBackend*>(backend);
  return wrapper ? wrapper->real() : backend;
}

}  // namespace db
