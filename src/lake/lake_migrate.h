/*
 * lake_migrate: move a lake's catalog to another database (`tarn catalog
 * migrate`): SQLite -> PostgreSQL, PostgreSQL -> SQLite, or one server to
 * another. The copy (catalog/migrate.h) is checked before the lake is
 * switched to it, and the old catalog is kept, untouched, so the move can
 * be undone.
 */
#ifndef LAKE_MIGRATE_H
#define LAKE_MIGRATE_H

#include "base/tn_err.h"
#include "catalog/migrate.h"

struct lake;

struct lake_migrate_result {
	struct catalog_migrate_report copy;
	char *from;      /* the old catalog, for messages (never a password) */
	char *to;        /* the new one, likewise */
	char *kept;      /* where the old catalog stays: the SQLite file set aside,
			  * or the file that keeps the old catalog.url */
	int dry_run;
};

/*
 * Copy the catalog of `lk` to `to` and switch the lake to it.
 * `to` is a PostgreSQL URI (postgres://…, postgresql://…, postgres:<conninfo>)
 * or "sqlite" / "sqlite:" / "sqlite:<lake>/catalog.sqlite" (a SQLite
 * catalog lives in the lake folder). The target must hold no DuckLake
 * table (TN_ECONFLICT). Writers wait on the old catalog's write lock
 * during the copy; processes that already have the lake open must be
 * stopped first, or their next commits go to the old catalog.
 * The switch, after a verified copy: a server target is written to
 * <lake>/catalog.url (mode 0600) and catalog.sqlite is renamed
 * catalog.sqlite.before-migrate-<time>; a SQLite target is renamed into
 * place as catalog.sqlite and catalog.url becomes
 * catalog.url.before-migrate-<time>. With `dry_run` everything is copied
 * and checked, then rolled back, and the lake is not touched.
 * `res` is filled as far as the work went; release it with
 * lake_migrate_result_release().
 */
int lake_migrate(struct lake *lk, const char *to, int dry_run, struct lake_migrate_result *res,
		 struct tn_err *err);
void lake_migrate_result_release(struct lake_migrate_result *res);

#endif
