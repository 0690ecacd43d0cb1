/* Temporary stubs so the tree links while the lake is being written. */
#include "base/compat.h"
#include "lake/lake.h"
#include "lake/session.h"
int lake_init(const char *dir, const struct lake_init_opts *opts, struct tn_err *err)
{ (void)dir; (void)opts; return tn_err_set(err, TN_EUNSUPPORTED, "not yet"); }
int lake_open(struct lake **out, const char *dir, struct tn_err *err)
{ (void)dir; *out = NULL; return tn_err_set(err, TN_EUNSUPPORTED, "not yet"); }
void lake_close(struct lake *lk) { (void)lk; }
const char *lake_dir(const struct lake *lk) { (void)lk; return ""; }
const char *lake_data_path(const struct lake *lk) { (void)lk; return ""; }
int lake_fsck(struct lake *lk, struct lake_fsck_report *rep, struct tn_err *err)
{ (void)lk; (void)rep; return tn_err_set(err, TN_EUNSUPPORTED, "not yet"); }
void lake_fsck_report_release(struct lake_fsck_report *rep) { (void)rep; }
int session_open(struct session **out, struct lake *lk, struct tn_err *err)
{ (void)lk; *out = NULL; return tn_err_set(err, TN_EUNSUPPORTED, "not yet"); }
void session_close(struct session *s) { (void)s; }
int session_exec(struct session *s, const char *sql, struct duck_result **res, struct tn_err *err)
{ (void)s; (void)sql; (void)res; return tn_err_set(err, TN_EUNSUPPORTED, "not yet"); }
int session_in_txn(const struct session *s) { (void)s; return 0; }
struct duck *session_duck(struct session *s) { (void)s; return NULL; }
